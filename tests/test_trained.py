"""``course_utils.trained`` (records of what training gives, reader mode, the models archive) and ``make models``
(``course_autograde.make_models``), on a Keras model of eight weights, with a cache folder of their own."""
from __future__ import annotations

import io
import json
import re
import tarfile

import keras
import nbformat
import numpy as np
import pytest

from course_autograde import book, make_models
from course_autograde.preprocessors.for_readers import fast_mode_note
from course_utils import data, trained
from course_utils.download import ChecksumError, file_sha256
from course_utils.settings import REPO_ROOT

NAME = "fashion_mnist_cnn"  # a record of notebook 01; here it holds the tiny model's training
X = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
Y = (X[:, 0] > 0).astype("int32")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_FAST", "1")
    for name in ("COURSE_READER", "COURSE_RECORD"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "cache"


def tiny_model(units: int = 2):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation="softmax")])


class StopAfter(keras.callbacks.Callback):
    """An interruption (as Ctrl-C would be) at the end of epoch ``epoch`` (from 0)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def fit(model, epochs: int = 3, stop_after=None):
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [StopAfter(stop_after)] if stop_after is not None else []
    return model.fit(X, Y, epochs=epochs, verbose=0, callbacks=callbacks)


def weights_of(model):
    return [np.asarray(w) for w in model.get_weights()]


def test_normally_it_just_trains_and_records_nothing(cache):
    model, calls = tiny_model(), []
    history = trained.train_or_load(NAME, lambda: calls.append(1) or fit(model), model=model, epochs=3)
    assert calls == [1] and isinstance(history, keras.callbacks.History) and history.epoch == [0, 1, 2]
    assert not (cache / "trained" / NAME).exists()


def test_make_models_records_it_and_reader_mode_loads_the_weights_and_history(cache, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_RECORD", "1")
    model = tiny_model()
    history = trained.train_or_load(NAME, lambda: fit(model), model=model, epochs=3, data="mnist")
    manifest = trained.read_manifest(NAME)
    assert manifest["recipe"] == {"epochs": 3, "data": "mnist"} and manifest["notebook"] == "01_convolutions"
    assert manifest["recipe_sha256"] == trained.recipe_hash({"epochs": 3, "data": "mnist"}, model)
    assert manifest["data_sha256"] == {"mnist": data.dataset_checksum("mnist")} != {"mnist": "unknown"}
    assert manifest["fast_mode"] is True and manifest["fits"] == 1 and manifest["resumed_fits"] == []
    assert manifest["metrics"]["loss"] == pytest.approx(history.history["loss"][-1])
    assert manifest["histories"] == {"history": history.history}
    assert manifest["weights_sha256"] == file_sha256(cache / "trained-fast" / NAME / trained.WEIGHTS)
    assert manifest["architecture"]["parameters"] == 8 and manifest["versions"]["keras"] == keras.__version__
    assert "epoch 3/3" in (cache / "trained-fast" / trained.PROGRESS).read_text()

    monkeypatch.setenv("COURSE_RECORD", "0")
    monkeypatch.setenv("COURSE_READER", "1")
    other, calls = tiny_model(), []
    other.set_weights([np.zeros_like(w) for w in weights_of(other)])
    loaded = trained.train_or_load(NAME, lambda: calls.append(1), model=other, epochs=3, data="mnist")
    assert calls == [] and isinstance(loaded, trained.RecordedHistory)
    assert loaded.history == history.history and loaded.epoch == history.epoch
    assert all(np.array_equal(a, b) for a, b in zip(weights_of(other), weights_of(model)))
    assert "Loaded the trained record fashion_mnist_cnn: FAST-mode training of" in capsys.readouterr().out


def test_reader_mode_without_a_matching_record_says_so_and_which_command_makes_it(cache, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_READER", "1")
    model, calls = tiny_model(), []
    trained.train_or_load(NAME, lambda: calls.append(1) or fit(model), model=model, epochs=3)
    out = capsys.readouterr().out
    assert calls == [1] and "fashion_mnist_cnn is not in the cache" in out
    assert "`make models NOTEBOOKS=01_convolutions`" in out and "Training here instead [fast mode]." in out

    monkeypatch.setenv("COURSE_RECORD", "1")
    trained.train_or_load(NAME, lambda: fit(model), model=model, epochs=3)
    monkeypatch.setenv("COURSE_RECORD", "0")
    for recipe, network in (({"epochs": 4}, tiny_model()), ({"epochs": 3}, tiny_model(units=3))):
        trained.train_or_load(NAME, lambda network=network: calls.append(2) or fit(network), model=network,
                              **recipe)
        assert "was trained with another recipe or network" in capsys.readouterr().out
    assert calls == [1, 2, 2]


def test_an_interrupted_record_is_resumed_from_its_last_epoch(cache, monkeypatch):
    monkeypatch.setenv("COURSE_RECORD", "1")
    model = tiny_model()
    with pytest.raises(KeyboardInterrupt):
        trained.train_or_load(NAME, lambda: fit(model, 4, stop_after=1), model=model, epochs=4)
    assert trained.read_manifest(NAME) is None  # not complete, so not a record
    assert trained.missing_records("01_convolutions", fast=True) == [NAME]
    again = tiny_model()
    history = trained.train_or_load(NAME, lambda: fit(again, 4), model=again, epochs=4)
    manifest = trained.read_manifest(NAME)
    assert manifest["resumed_fits"] == [1] and history.epoch == [0, 1, 2, 3]
    assert len(history.history["loss"]) == 4 and len(manifest["result"]["__history__"]["epoch"]) == 4
    assert "fit 1: resuming after epoch 1" in (cache / "trained-fast" / trained.PROGRESS).read_text()
    assert not (cache / "trained-fast" / NAME / "backup").exists()
    assert trained.missing_records("01_convolutions", fast=True) == []
    assert trained.missing_records("01_convolutions") == [NAME]  # a fast-mode record is not a full-mode one


def test_results_are_recorded_as_json_and_what_cannot_be_is_refused_with_the_reason():
    value = {"a": (1, np.float32(0.5)), "b": [np.arange(3)], "c": trained.RecordedHistory({"loss": [1.0]}, [0], {})}
    back = trained.decode(json.loads(json.dumps(trained.encode(value))))
    assert back["a"] == (1, 0.5) and np.array_equal(back["b"][0], np.arange(3)) and back["c"].history == {"loss": [1.0]}
    result = {"test_accuracy": 0.75, "head": {"history": {"loss": [2.0, 1.0]}, "val_loss": 0.5}}
    assert trained.metrics(result) == {"test_accuracy": 0.75, "head.val_loss": 0.5}
    assert trained.histories((result, value["c"])) == {"0.head.history": {"loss": [2.0, 1.0]}, "1": {"loss": [1.0]}}
    with pytest.raises(trained.RecordError, match=r"cannot record result\.model, a Sequential"):
        trained.encode({"model": tiny_model()})
    with pytest.raises(trained.RecordError, match="an array of 200,000 numbers"):
        trained.encode(np.zeros(200_000))
    with pytest.raises(trained.RecordError, match="not a record of the course"):
        trained.train_or_load("my_model", lambda: None)


def test_the_models_archive_is_packed_downloaded_and_checked(cache, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_RECORD", "1")
    model = tiny_model()
    trained.train_or_load(NAME, lambda: fit(model), model=model, epochs=3)
    archive = trained.pack(tmp_path / "course-models.tar.gz", with_backbone=False)
    digest, original = file_sha256(archive), trained.read_manifest(NAME)

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "reader"))  # a reader's machine
    assert trained.download(archive.as_uri(), digest) == [NAME]  # a local stand-in for the published URL
    assert trained.read_manifest(NAME) == original
    assert file_sha256(tmp_path / "reader" / "trained-fast" / NAME / trained.WEIGHTS) == original["weights_sha256"]

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "wrong"))
    with pytest.raises(ChecksumError, match="Checksum mismatch"):
        trained.download(archive.as_uri(), "0" * 64)
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w:gz") as out:
        for member in source.getmembers():
            content = source.extractfile(member).read()
            if member.name.endswith(trained.WEIGHTS):
                content = content[:-1] + bytes([content[-1] ^ 1])
            member.size = len(content)
            out.addfile(member, io.BytesIO(content))
    with pytest.raises(ChecksumError, match="differ from the archive's list .*nothing was installed"):
        trained.download(tampered.as_uri(), file_sha256(tampered))
    assert trained.read_manifest(NAME) is None and not (tmp_path / "wrong" / "trained-fast" / NAME).exists()


TINY_NOTEBOOK = f"""
import keras, numpy as np
from course_utils import trained
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy")
x = np.random.default_rng(0).standard_normal((32, 3)).astype("float32")
history = trained.train_or_load("{NAME}", lambda: model.fit(x, (x[:, 0] > 0).astype("int32"), epochs=2, verbose=0),
                                model=model, epochs=2)
"""


def test_make_models_executes_the_notebook_in_record_mode_shows_progress_and_skips_what_is_recorded(
        cache, tmp_path, capsys):
    notebook = tmp_path / "01_convolutions.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TINY_NOTEBOOK)]), notebook)
    paths, logs = {"01_convolutions": notebook}, tmp_path / "logs"
    assert make_models.run(["01_convolutions"], fast=True, paths=paths, logs=logs, results=tmp_path / "results") == 0
    out = capsys.readouterr().out
    assert f"{NAME}, fit 1: epoch 2/2" in out and f"{NAME}: recorded in" in out
    figures, = (tmp_path / "results").glob("records-01_convolutions-*-fast.json")
    assert json.loads(figures.read_text())[NAME]["histories"] == trained.read_manifest(NAME)["histories"]
    assert f"the records' figures: {figures}" in out
    assert trained.read_manifest(NAME)["fast_mode"] is True and (logs / "01_convolutions.ipynb").exists()
    assert make_models.run(["01_convolutions"], fast=True, paths=paths, logs=logs) == 0
    assert "01_convolutions: every record is there" in capsys.readouterr().out
    assert trained.read_manifest(NAME, fast=False) is None  # a fast run leaves the full-mode records alone

    broken = tmp_path / "broken" / "01_convolutions.ipynb"
    broken.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), broken)
    assert make_models.run(["01_convolutions"], fast=True, force=True, paths={"01_convolutions": broken},
                           logs=logs) == 1
    assert "01_convolutions failed: ZeroDivisionError" in capsys.readouterr().out


def test_a_fast_run_never_replaces_a_full_mode_record(cache, monkeypatch):
    monkeypatch.setenv("COURSE_RECORD", "1")
    monkeypatch.setenv("COURSE_FAST", "0")  # not unset: CI=true alone means fast mode
    full = tiny_model()
    trained.train_or_load(NAME, lambda: fit(full, epochs=2), model=full, epochs=2)
    recorded = (cache / "trained" / NAME / trained.WEIGHTS).read_bytes()
    monkeypatch.setenv("COURSE_FAST", "1")
    fast = tiny_model(units=3)  # another network and recipe: in one folder it would replace the record
    trained.train_or_load(NAME, lambda: fit(fast, epochs=1), model=fast, epochs=1)
    assert (cache / "trained" / NAME / trained.WEIGHTS).read_bytes() == recorded
    assert trained.read_manifest(NAME, fast=False)["fast_mode"] is False
    assert trained.read_manifest(NAME, fast=True)["recipe"] == {"epochs": 1}
    assert trained.missing_records("01_convolutions") == [] == trained.missing_records("01_convolutions", fast=True)


def test_no_full_mode_record_is_made_on_the_stand_in_backbone(cache, monkeypatch):
    monkeypatch.setenv("COURSE_RECORD", "1")
    monkeypatch.setenv("COURSE_FAST", "0")
    model = tiny_model()
    stand_in = {"kind": "stand-in", "weights_sha256": None}
    with pytest.raises(trained.RecordError, match="stand-in backbone.*make backbone"):
        trained.train_or_load(NAME, lambda: fit(model, epochs=1), model=model, epochs=1, backbone=stand_in)
    assert trained.read_manifest(NAME) is None
    monkeypatch.setenv("COURSE_FAST", "1")  # fast mode: the machinery is what is tried, a stand-in will do
    trained.train_or_load(NAME, lambda: fit(model, epochs=1), model=model, epochs=1, backbone=stand_in)
    assert trained.read_manifest(NAME, fast=True)["recipe"]["backbone"]["kind"] == "stand-in"


def test_the_book_runs_a_chapter_in_full_mode_where_its_models_are_recorded(cache, monkeypatch):
    monkeypatch.delenv("COURSE_FAST")
    for name in trained.notebook_records("04_resnet50"):
        (cache / "trained" / name).mkdir(parents=True)
        (cache / "trained" / name / trained.MANIFEST).write_text(json.dumps({"fast_mode": False}))
    modes = book.reader_modes()
    assert modes["04_resnet50"] is False and modes["02_identity_block"] is False  # recorded / trains nothing
    assert modes["01_convolutions"] is True and modes["06_transfer_cam"] is True
    monkeypatch.setenv("COURSE_FAST", "1")
    assert set(book.reader_modes().values()) == {True}
    note = fast_mode_note(trained.missing_records("06_transfer_cam"))
    assert "`flowers_transfer_all`, `flowers_transfer_small`, `cats_vs_dogs_cam`" in note
    assert "`make models NOTEBOOKS=06_transfer_cam`" in note


def test_every_training_cell_of_the_solutions_names_a_record_of_its_notebook():
    named = re.compile(r"""(?:train_or_load\(\s*|record=)"(\w+)\"""")
    found = {}
    for path in sorted((REPO_ROOT / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for name in named.findall(cell.source if cell.cell_type == "code" else ""):
                found[name] = path.stem
    assert found == {name: entry.notebook for name, entry in trained.RECORDS.items()}


def test_a_record_trained_on_an_earlier_backbone_is_missing_for_make_models(cache):
    """`make backbone` replaced the backbone: notebook 06's records no longer match and are made again."""
    import json

    from course_utils import backbones

    def record(name, sha):
        folder = trained.record_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        recipe = {"backbone": {"kind": "imagenette", "weights_sha256": sha}, "data": "flowers"}
        manifest = {"name": name, "fast_mode": True, "recipe": recipe, "trained": "2026-12-02T10:00:00", "minutes": 1}
        (folder / trained.MANIFEST).write_text(json.dumps(manifest))

    backbones.manifest_path().write_text(json.dumps({"weights_sha256": "new"}))
    record("flowers_transfer_all", "new")
    record("flowers_transfer_small", "old")
    record("cats_vs_dogs_cam", "new")
    assert trained.missing_records("06_transfer_cam", fast=True) == ["flowers_transfer_small"]
    assert any("flowers_transfer_small" in line and "no longer holds" in line for line in trained.status_lines())
    backbones.manifest_path().unlink()  # no backbone in the cache: nothing to compare with
    assert trained.missing_records("06_transfer_cam", fast=True) == []
