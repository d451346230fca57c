"""Environment configuration: envs/_defaults.yaml merged with envs/<name>.yaml, validated."""

from payctl.config.loader import Environments, find_workspace, load_environments
from payctl.config.models import Environment, RegionRole

__all__ = ["Environment", "Environments", "RegionRole", "find_workspace", "load_environments"]
