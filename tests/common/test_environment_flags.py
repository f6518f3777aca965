"""skrl's on/off environment variables: unset or any other value keeps a feature on; 0/off/false/no/none turn it off."""

import pytest

from skrl.common.environment_flags import switched_off


@pytest.mark.parametrize("value", ["0", "off", " OFF ", "False", "no", "none"])
def test_off_values_switch_a_feature_off(monkeypatch, value):
    monkeypatch.setenv("SKRL_TEST_FLAG", value)
    assert switched_off("SKRL_TEST_FLAG")


@pytest.mark.parametrize("value", ["1", "on", "", "/a/cache/dir"])
def test_other_values_and_unset_keep_it_on(monkeypatch, value):
    monkeypatch.setenv("SKRL_TEST_FLAG", value)
    assert not switched_off("SKRL_TEST_FLAG")
    monkeypatch.delenv("SKRL_TEST_FLAG")
    assert not switched_off("SKRL_TEST_FLAG")
