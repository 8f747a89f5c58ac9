import pytest

from course_utils import settings


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("COURSE_FAST", "NBGRADER_EXECUTION", "CI", "COURSE_DATA_DIR", "COURSE_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_full_mode_by_default(clean_env):
    assert settings.fast_mode() is False
    assert settings.pick(1, 15) == 15


@pytest.mark.parametrize("variable,value", [("COURSE_FAST", "1"), ("NBGRADER_EXECUTION", "autograde"),
                                            ("CI", "true")])
def test_fast_mode_switches_on(clean_env, variable, value):
    clean_env.setenv(variable, value)
    assert settings.fast_mode() is True
    assert settings.pick(1, 15) == 1
    assert "FAST" in settings.describe()


def test_course_fast_0_wins_over_nbgrader(clean_env):
    clean_env.setenv("NBGRADER_EXECUTION", "autograde")
    clean_env.setenv("COURSE_FAST", "0")
    assert settings.fast_mode() is False


def test_unknown_fast_value_is_a_clear_error(clean_env):
    clean_env.setenv("COURSE_FAST", "maybe")
    with pytest.raises(ValueError, match="COURSE_FAST"):
        settings.fast_mode()


def test_data_dir_from_environment(clean_env, tmp_path):
    clean_env.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert settings.data_dir() == tmp_path


def test_data_dir_default_finds_shared_data_next_to_the_repo(clean_env, tmp_path):
    shared = settings.REPO_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        assert settings.data_dir() == shared
    else:
        clean_env.setenv("COURSE_CACHE_DIR", str(tmp_path))
        assert settings.data_dir() == tmp_path / "data"


def test_models_dir_is_outside_the_repository(clean_env, tmp_path):
    clean_env.setenv("COURSE_CACHE_DIR", str(tmp_path))
    assert settings.models_dir() == tmp_path / "models"
    assert settings.models_dir().is_dir()
