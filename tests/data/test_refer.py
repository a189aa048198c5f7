"""The refer-format loader on fixtures laid out exactly as the refer toolkit's data folder."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tvnet.data.refer import Sample, default_images_dir, open_refer, refer_location
from tvnet.data.unpickle import UnsafePickleError

if TYPE_CHECKING:  # the fixture's type (tests/data/conftest.py)
    from conftest import ReferFixture


def test_refcoco_samples_and_splits(refer_data: ReferFixture) -> None:
    ds = open_refer(refer_data.data / "refcoco")
    assert (ds.name, ds.split_by) == ("refcoco_unc", "unc")
    assert ds.splits() == ["train", "val", "testA", "testB"]
    train = ds.samples("train")
    assert [s.sample_id for s in train] == [10, 11]  # one sample per expression, file order
    assert train[0] == Sample(
        sample_id=10,
        ref_id=1,
        sent_id=10,
        image_id=1,
        ann_id=101,
        category_id=1,
        sentence="man on the left",
        file_name="COCO_train2014_000000000001.jpg",  # the image's name, not the ref's
        split="train",
        bbox=(10.0, 10.0, 50.0, 35.0),
    )
    assert [s.sentence for s in ds.samples("testA")] == ["whole thing", "everything"]
    assert ds.samples("testB")[0].category_id == 3
    assert ds.sample(12).ref_id == 2
    with pytest.raises(ValueError, match="testC"):
        ds.samples("testC")
    with pytest.raises(ValueError, match="no split 'test'"):
        ds.samples("test")


def test_polygon_masks_are_unions(refer_data: ReferFixture) -> None:
    ds = open_refer(refer_data.data / "refcoco")
    for ref_id, expected in refer_data.masks["refcoco"].items():
        m = ds.mask(ref_id)
        assert m.dtype == bool and m.shape == expected.shape
        assert np.array_equal(m, expected), ref_id
    overlap = ds.mask(2)
    assert overlap.sum() == 700 and overlap[20, 20]  # union (max), not sum: 800 − 100
    assert ds.mask(1).sum() == 200 + 300  # two disjoint parts
    assert ds.image_size(3) == (41, 97)


def test_image_annotations_list_every_object_of_the_image(refer_data: ReferFixture) -> None:
    ds = open_refer(refer_data.data / "refcoco")
    assert [a["id"] for a in ds.image_annotations(1)] == [101, 102]  # refs of train and val
    assert [a["id"] for a in ds.image_annotations(3)] == [301]
    with pytest.raises(KeyError, match="no image with id 99"):
        ds.image_annotations(99)


def test_rle_masks_refclef(refer_data: ReferFixture) -> None:
    ds = open_refer(refer_data.data / "refclef")
    assert (ds.name, ds.split_by) == ("refclef_berkeley", "berkeley")
    assert ds.splits() == ["train", "val", "test"]
    for ref_id, expected in refer_data.masks["refclef"].items():
        assert np.array_equal(ds.mask(ref_id), expected), ref_id
    # images come from ../images/saiapr_tc-12; pixels exact (PNG), greyscale made RGB
    for image_id, pix in refer_data.pixels["refclef"].items():
        img = ds.load_image(image_id)
        assert img.dtype == np.uint8 and np.array_equal(img, pix)
        assert img.shape[:2] == ds.image_size(image_id)


def test_coco_images_default_location(refer_data: ReferFixture) -> None:
    ds = open_refer(refer_data.data / "refcoco")
    expected = refer_data.data / "images" / "mscoco" / "images" / "train2014"
    assert ds.image_path(2) == expected / "COCO_train2014_000000000002.jpg"
    img = ds.load_image(2)
    assert img.shape == (50, 70, 3) and img.dtype == np.uint8
    # a local images/ folder wins; images_dir= overrides both
    local = refer_data.data / "refcoco" / "images"
    shutil.copytree(expected, local)
    assert open_refer(refer_data.data / "refcoco").image_path(2).parent == local
    assert open_refer(refer_data.data / "refcoco", images_dir="/x").image_path(2).parent.name == "x"


def test_default_images_dir_is_where_open_refer_reads_without_reading_the_dataset(
    refer_data: ReferFixture,
) -> None:
    """What a checkpoint's recorded data_dir (a folder or a refs file) gives the Predictor as
    the pool's images: the folder open_refer reads, in both the shared and the local layout."""
    for data in ("refcoco", "refcoco/refs(unc).p", "refcocog/refs(umd).p", "refclef"):
        path = refer_data.data / data
        want = open_refer(path).images_dir
        assert default_images_dir(path) == want, data
        assert want.is_dir()  # the fixture's images, not …/refs(unc).p/images
    local = refer_data.data / "refcoco" / "images"
    local.mkdir()
    assert default_images_dir(refer_data.data / "refcoco" / "refs(unc).p") == local


def test_the_few_images_a_dataset_lacks_leave_out_their_expressions(refer_data, tmp_path) -> None:
    """refclef's berkeley split lists three images that saiapr_tc-12 does not hold: their
    expressions are left out with a warning, not a failure at the first one. Images the folder
    mostly lacks (an incomplete download) and a dataset read without its images leave out
    nothing."""
    coco = refer_data.data / "images" / "mscoco" / "images" / "train2014"
    images = tmp_path / "train2014"
    shutil.copytree(coco, images)
    full = open_refer(refer_data.data / "refcoco", images_dir=images)
    assert full.missing_images == []
    (images / "COCO_train2014_000000000003.jpg").unlink()
    with pytest.warns(UserWarning, match=r"1 image\(s\) missing .*000000000003\.jpg.*their 1 "):
        ds = open_refer(refer_data.data / "refcoco", images_dir=images)
    assert ds.missing_images == [3]
    # a feature cache of the dataset without them is another cache than one with them back
    from tvnet.loader.features import dataset_fingerprint

    assert dataset_fingerprint(ds) != dataset_fingerprint(full)
    lost = [s for s in full.samples("testA") + full.samples("testB") if s.image_id == 3]
    assert len(lost) == 1 and all(s.image_id != 3 for sp in ds.splits() for s in ds.samples(sp))
    with pytest.raises(KeyError):
        ds.sample(lost[0].sample_id)
    assert (
        sum(len(ds.samples(sp)) for sp in ds.splits())
        == sum(len(full.samples(sp)) for sp in full.splits()) - 1
    )
    for f in images.iterdir():  # most of them gone: an incomplete download, nothing left out
        if f.name != "COCO_train2014_000000000001.jpg":
            f.unlink()
    assert open_refer(refer_data.data / "refcoco", images_dir=images).missing_images == []
    shutil.rmtree(images)  # no images at all: the expressions alone are read
    assert open_refer(refer_data.data / "refcoco", images_dir=images).missing_images == []


def test_json_refs_variant_equals_pickle(refer_data: ReferFixture) -> None:
    a = open_refer(refer_data.data / "refcoco")
    b = open_refer(refer_data.data / "refcoco+")
    assert b.name == "refcoco+" and b.split_by == "unc"  # released with one scheme
    for split in a.splits():
        assert a.samples(split) == b.samples(split)


def test_several_refs_files_need_split_by(refer_data: ReferFixture) -> None:
    folder = refer_data.data / "refcocog"
    # the error lists the schemes and says how a command line chooses one
    with pytest.raises(
        ValueError, match=r"\['google', 'umd'\].*--data .*refcocog/refs\(google\)\.p"
    ):
        open_refer(folder)
    umd = open_refer(folder, split_by="umd")
    assert umd.splits() == ["train", "val", "test"]
    assert len(umd.samples("test")) == 3
    google = open_refer(folder, split_by="google")
    assert google.splits() == ["train", "val"]
    # chosen among several, a dataset carries its scheme in its name: neighbour tables and
    # dumps of refcocog's two val splits never share a file or a report row
    assert (umd.name, google.name) == ("refcocog_umd", "refcocog_google")
    # and so does one alone in its folder: its name does not depend on what lies beside it
    # (refcoco.zip has refs(unc).p and refs(google).p; copying refs(unc).p alone must not
    # rename the dataset its pools, feature cache and checkpoints are keyed by)
    assert open_refer(refer_data.data / "refcoco").name == "refcoco_unc"
    assert open_refer(folder / "refs(umd).p").name == "refcocog_umd"
    with pytest.raises(FileNotFoundError, match=r"refs\(unc\)\.p.*found: refs\(google\)\.p"):
        open_refer(folder, split_by="unc")


def test_a_refs_file_as_the_dataset_picks_its_scheme(refer_data: ReferFixture) -> None:
    """What the command lines' --data takes where a folder holds several refs files."""
    folder = refer_data.data / "refcocog"
    for scheme in ("umd", "google"):
        by_file = open_refer(folder / f"refs({scheme}).p")
        by_name = open_refer(folder, split_by=scheme)
        assert (by_file.name, by_file.split_by, by_file.root) == (by_name.name, scheme, folder)
        for split in by_name.splits():
            assert by_file.samples(split) == by_name.samples(split)
        assert open_refer(folder / f"refs({scheme}).p", split_by=scheme).name == by_name.name
    with pytest.raises(
        ValueError, match=r"refs\(umd\)\.p is the split_by='umd' refs file, not 'google'"
    ):
        open_refer(folder / "refs(umd).p", split_by="google")
    with pytest.raises(FileNotFoundError, match=r"refs file not found: .*refs\(unc\)\.p"):
        open_refer(folder / "refs(unc).p")  # no such file: said so, not "no such folder"
    assert refer_location(folder / "refs(umd).p") == (folder, "umd")
    assert refer_location(folder) == (folder, None)


def test_missing_files_name_the_file_and_the_layout(refer_data: ReferFixture) -> None:
    d = refer_data.data / "refcoco"
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        open_refer(refer_data.data / "nope")
    ds = open_refer(d)
    os.remove(ds.image_path(1))
    with pytest.raises(FileNotFoundError, match=r"COCO_train2014_000000000001\.jpg.*refer layout"):
        ds.load_image(1)
    ds.image_path(2).write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"cannot read image 2 of refcoco_unc .*COCO_train2014"):
        ds.load_image(2)
    os.remove(d / "instances.json")
    with pytest.raises(FileNotFoundError, match=r"instances\.json.*refs\(SPLITBY\)"):
        open_refer(d)
    os.remove(d / "refs(unc).p")
    with pytest.raises(FileNotFoundError, match=r"no refs\(SPLITBY\)\.p"):
        open_refer(d)


def test_malicious_refs_file_is_refused(refer_data: ReferFixture, tmp_path) -> None:
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    d = refer_data.data / "refcoco"
    (d / "refs(unc).p").write_bytes(pickle.dumps([Evil()], protocol=2))
    with pytest.raises(UnsafePickleError, match=r"refs\(unc\)\.p"):
        open_refer(d)
    assert not marker.exists()


def test_inconsistent_refs_are_errors(refer_data: ReferFixture) -> None:
    d = refer_data.data / "refcoco+"
    refs = json.loads((d / "refs(unc).json").read_text())
    refs[0]["ann_id"] = 999
    (d / "refs(unc).json").write_text(json.dumps(refs))
    with pytest.raises(ValueError, match="annotation 999"):
        open_refer(d)
    refs[0]["ann_id"] = 101
    refs[1]["sentences"][0]["sent_id"] = 10  # duplicate of ref 1's first sentence
    (d / "refs(unc).json").write_text(json.dumps(refs))
    with pytest.raises(ValueError, match="duplicate sent_id 10"):
        open_refer(d)
    # a field missing deeper down: a message naming the file, not a bare KeyError
    del refs[1]["sentences"][0]["sent_id"]
    (d / "refs(unc).json").write_text(json.dumps(refs))
    with pytest.raises(
        ValueError, match=r"refs\(unc\)\.json: malformed refer data \(KeyError: 'sent_id'\)"
    ):
        open_refer(d)
    (d / "refs(unc).json").write_text("[{")
    with pytest.raises(ValueError, match="corrupt"):
        open_refer(d)


def test_dataset_images_are_read_as_uploads_are_but_in_their_stored_orientation(
    refer_data: ReferFixture,
) -> None:
    """One image reader (tvnet.image.read_image): alpha composited onto white as for an
    upload, but no EXIF rotation, since the masks are drawn on the stored pixels."""
    from PIL import Image

    ds = open_refer(refer_data.data / "refcoco")
    h, w = ds.image_size(1)
    assert h != w  # so that a rotation would show in the shape
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[: h // 2, :, 3] = 255  # the top half opaque red, the bottom transparent
    Image.fromarray(rgba, "RGBA").save(ds.image_path(1), format="PNG")
    img = ds.load_image(1)
    assert img.shape == (h, w, 3)
    assert (img[: h // 2] == (200, 0, 0)).all() and (img[h // 2 :] == 255).all()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(np.full((h, w, 3), 90, np.uint8)).save(ds.image_path(1), "JPEG", exif=exif)
    assert ds.load_image(1).shape == (h, w, 3)  # an upload would come back w×h


def test_an_image_or_mask_of_another_size_than_recorded_is_an_error(
    refer_data: ReferFixture, tmp_path
) -> None:
    """The mask is drawn at instances.json's size: an image file of another size, or an RLE
    of another size (a converter that wrote [w, h]), would lie misaligned, silently."""
    from PIL import Image

    from tvnet.data.refer import decode_segmentation

    ds = open_refer(refer_data.data / "refcoco")
    h, w = ds.image_size(1)
    Image.new("RGB", (w + 4, h)).save(ds.image_path(1))
    with pytest.raises(ValueError, match=rf"is {h}×{w + 4}, instances.json says {h}×{w}"):
        ds.load_image(1)
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(np.ones((3, 5), np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    assert decode_segmentation(rle, 3, 5).all()
    with pytest.raises(ValueError, match=r"RLE of size \[3, 5\] for an image of 5×3"):
        decode_segmentation(rle, 5, 3)  # the same pixel count: it used to reshape, scrambled


def test_a_sentence_without_text_is_left_out_and_named(refer_data, tmp_path) -> None:
    """One empty sentence must not make a whole dataset unreadable (the refer toolkit and the
    codebases built on it carry it along); it has nothing to segment by, so it is left out,
    with a warning naming it."""
    src = refer_data.data / "refcoco+"
    d = tmp_path / "refcoco+"
    shutil.copytree(src, d)
    refs_file = next(d.glob("refs(*).*"))
    refs = (pickle.loads(refs_file.read_bytes()) if refs_file.suffix == ".p"
            else json.loads(refs_file.read_text()))  # fmt: skip
    sent = refs[0]["sentences"][0]
    sent["sent"], sent["raw"], sent["tokens"] = "", "  ", []
    # punctuation alone is no words either (encoding it would fail the whole split) …
    mute = refs[0]["sentences"][1] if len(refs[0]["sentences"]) > 1 else refs[1]["sentences"][0]
    mute["sent"], mute["raw"], mute["tokens"] = "?", ".", ["?"]
    # … and a blank or wordless "sent" falls through to a "raw" that has words
    spoken = refs[-1]["sentences"][0]
    spoken["sent"], spoken["raw"] = " ? ", "man left"
    refs_file.unlink()
    (d / "refs(unc).json").write_text(json.dumps(refs))
    gone = sorted([sent["sent_id"], mute["sent_id"]])
    with pytest.warns(UserWarning, match=r"2 sentence\(s\) without words left out \(sent_id "):
        ds = open_refer(d, images_dir=tmp_path)
    assert sorted(ds.empty_sentences) == gone
    for sid in gone:
        with pytest.raises(KeyError):
            ds.sample(sid)
    assert ds.sample(spoken["sent_id"]).sentence == "man left"
    kept = [s.sent_id for sp in ds.splits() for s in ds.samples(sp)]
    assert not set(gone) & set(kept)
    assert len(kept) == sum(len(r["sentences"]) for r in refs) - 2


def test_a_dataset_named_by_its_folder_keeps_its_name_whatever_lies_beside_it(
    refer_data, tmp_path
) -> None:
    """refs(umd).p alone in a refcocog folder, and beside refs(google).p: the same dataset,
    the same name (refcocog was released with two schemes). One that names itself
    (instances.json's info.dataset, as SynthRef's does) keeps that name while it has one."""
    alone = tmp_path / "refcocog"
    alone.mkdir()
    for f in ("refs(umd).p", "instances.json"):
        shutil.copy(refer_data.data / "refcocog" / f, alone / f)
    both = open_refer(refer_data.data / "refcocog", split_by="umd")
    one = open_refer(alone)
    assert one.name == both.name == "refcocog_umd"
    shout = tmp_path / "RefCOCOg"  # whatever the folder's case, and a scheme only such
    shout.mkdir()  # datasets have (umd) says so too
    for f in ("refs(umd).p", "instances.json"):
        shutil.copy(alone / f, shout / f)
    assert open_refer(shout).name == "RefCOCOg_umd"
    inst = json.loads((alone / "instances.json").read_text())
    inst["info"] = {"dataset": "mine"}
    (alone / "instances.json").write_text(json.dumps(inst))
    assert open_refer(alone).name == "mine"
    shutil.copy(refer_data.data / "refcocog" / "refs(google).p", alone)
    assert open_refer(alone, split_by="google").name == "mine_google"


def test_a_folder_named_like_a_refs_file_is_a_folder(tmp_path) -> None:
    odd = tmp_path / "refs(umd).p"
    odd.mkdir()
    assert refer_location(odd) == (odd, None)
    assert refer_location(tmp_path / "refs(umd).json") == (tmp_path, "umd")  # not there: a file
