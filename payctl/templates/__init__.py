"""Pure template rendering: fragments under stacks/ to master and nested templates."""

from payctl.templates.compose import Composer, Template, WaveTemplates
from payctl.templates.render import RenderedSet, RenderedStack, render_environment

__all__ = ["Composer", "RenderedSet", "RenderedStack", "Template", "WaveTemplates", "render_environment"]
