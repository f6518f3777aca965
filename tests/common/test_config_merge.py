import pytest

from skrl.common.config_merge import deep_merge
from skrl.common.errors import UnknownConfigKeyError
from skrl.common.experiment import EXPERIMENT_DEFAULT_CONFIG
from skrl.common.ppo import PPO_DEFAULT_CONFIG


def test_partial_nested_dict_keeps_other_defaults():
    merged = deep_merge(PPO_DEFAULT_CONFIG, {"experiment": {"write_interval": 10}})
    assert merged["experiment"]["write_interval"] == 10
    assert merged["experiment"]["checkpoint_interval"] == "auto"
    assert merged["rollouts"] == 16


def test_defaults_are_never_mutated():
    merged = deep_merge(PPO_DEFAULT_CONFIG, {})
    merged["experiment"]["write_interval"] = 1
    merged["learning_rate_scheduler_kwargs"]["x"] = 1
    assert PPO_DEFAULT_CONFIG["experiment"]["write_interval"] == "auto"
    assert PPO_DEFAULT_CONFIG["learning_rate_scheduler_kwargs"] == {}


@pytest.mark.parametrize(
    "cfg, bad, suggestion",
    [
        ({"learning_epoch": 3}, "learning_epoch", "learning_epochs"),
        ({"discount": 0.9}, "discount", "discount_factor"),
        ({"experiment": {"write_intervall": 3}}, "write_intervall", "write_interval"),
    ],
)
def test_unknown_key_names_it_and_suggests_the_closest(cfg, bad, suggestion):
    with pytest.raises(UnknownConfigKeyError, match=rf"'{bad}'.*did you mean '{suggestion}'"):
        deep_merge(PPO_DEFAULT_CONFIG, cfg)


def test_kwargs_dicts_are_free_form():
    merged = deep_merge(PPO_DEFAULT_CONFIG, {"state_preprocessor_kwargs": {"size": 4, "anything": 1}},
                       open_keys=("state_preprocessor_kwargs",))
    assert merged["state_preprocessor_kwargs"] == {"size": 4, "anything": 1}


def test_non_dict_config_is_rejected():
    with pytest.raises(TypeError, match="expected a dict"):
        deep_merge(EXPERIMENT_DEFAULT_CONFIG, [1, 2])
