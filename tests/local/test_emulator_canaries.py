"""Canaries: fail loudly when a moto upgrade moves the internals payctl's patches rely on."""

from __future__ import annotations

import pytest

from payctl.local.patches import MotoInternalsChanged, check_all, patch_modules
from payctl.local.patches._guard import EXPECTED_MOTO_VERSION, require_source


def test_moto_is_the_pinned_version() -> None:
    import moto

    assert moto.__version__ == EXPECTED_MOTO_VERSION, "re-check every patch in payctl/local/patches first"


@pytest.mark.parametrize("module", patch_modules(), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_internals_each_patch_relies_on_are_present(module: object) -> None:
    module.check()  # type: ignore[attr-defined]


def test_every_patch_names_the_moto_gap_it_closes() -> None:
    for module in patch_modules():
        assert "moto gap" in (module.__doc__ or ""), module.__name__


def test_guard_reports_a_changed_internal() -> None:
    from moto.cloudformation import parsing

    with pytest.raises(MotoInternalsChanged, match="no longer contains"):
        require_source(parsing.clean_json, "this text is not in moto", "intrinsics")


def test_install_is_idempotent_and_binds_the_patches() -> None:
    from moto.cloudformation import models, parsing

    from payctl.local import install
    from payctl.local.patches import intrinsics
    from payctl.local.stacksets import PayctlStackSet

    install()
    install()
    check_all()
    assert parsing.clean_json is intrinsics.clean_json
    assert models.StackSet is PayctlStackSet
    assert models.Stack.has_cfn_attr("Outputs.VpcId")
