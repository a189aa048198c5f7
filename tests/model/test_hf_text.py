"""The hf_tokens text encoder (tvnet/model/hf_text.py): a frozen MiniLM's token states + one
trainable layer; any word reaches the model; the transformer never enters a checkpoint."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tvnet import build_model
from tvnet.checkpoint import load_checkpoint, save_checkpoint
from tvnet.model.hf_text import HFTokenEncoder, SubwordVocab
from tvnet.retrieval.text_encoder import PACKAGE_MINILM


@pytest.fixture(scope="module")
def vocab():
    return SubwordVocab(PACKAGE_MINILM)


def test_words_outside_any_dataset_are_read_piece_by_piece(vocab):
    # none of these is a SynthRef word; a closed vocabulary reads them all as <unk>
    assert vocab.unknown("the crimson teeny lozenge beside the cat") == []
    assert vocab.unknown("the ☃ circle") == ["☃"]  # no piece for it: the honest <unk>
    ids, n = vocab.encode("the crimson circle.", 12)
    tok = vocab.tokenizer
    assert ids[0] == tok.cls_token_id and ids[n - 1] == tok.sep_token_id
    assert (ids[n:] == tok.pad_token_id).all() and ids.shape == (12,)
    assert tok.decode(ids[1 : n - 1]) == "the crimson circle."
    cut, m = vocab.encode("one two three four five six seven eight nine ten", 6)
    assert m == 6 and cut[5] == tok.sep_token_id  # truncated, still closed by [SEP]
    with pytest.raises(ValueError, match="no words"):
        vocab.encode(" ... ")
    batch, lengths = vocab.encode_batch(["a red star", "the circle"], 8)
    assert batch.shape == (2, 8) and lengths.tolist() == [5, 4]


@pytest.mark.parametrize("layer", ["lstm", "proj"])
def test_padding_never_changes_s_and_only_the_top_layer_learns(vocab, layer):
    torch.manual_seed(0)
    enc = HFTokenEncoder(PACKAGE_MINILM, 16, layer)
    enc.train()
    assert not enc.transformer.training  # frozen: no dropout in training either
    ids, n = vocab.encode("the small green star", 8)
    longer = np.full(14, vocab.tokenizer.pad_token_id)
    longer[:8] = ids
    t1, t2 = torch.tensor(ids[None]), torch.tensor(longer[None])
    words, s1, mask = enc(t1, torch.tensor([n]))
    _, s2, _ = enc(t2, torch.tensor([n]))
    torch.testing.assert_close(s1, s2, rtol=1e-5, atol=1e-5)
    assert words.shape == (1, 8, 16) and mask.sum() == n
    assert torch.allclose(s1.norm(dim=-1), torch.ones(1))
    assert words[0, n:].abs().max() == 0  # nothing at padding
    other, m = vocab.encode("the large blue ring", 8)
    _, s3, _ = enc(torch.tensor(other[None]), torch.tensor([m]))
    assert not torch.allclose(s1, s3, atol=1e-3)  # it does read the words
    (s1.sum() + words.sum()).backward()
    assert all(p.grad is None for p in enc.transformer.parameters())
    top = [p for n_, p in enc.named_parameters() if not n_.startswith("transformer.")]
    assert top and all(p.grad is not None and p.grad.abs().sum() > 0 for p in top)


def test_checkpoint_stores_the_top_layer_only_and_round_trips(vocab, tmp_path):
    torch.manual_seed(0)
    model = build_model(
        "cpu", "res", pretrained=False, text_encoder="hf_tokens", input_size=64, d_s=16, d_m=16
    ).eval()
    assert isinstance(model.vocab, SubwordVocab)
    path = save_checkpoint(model, tmp_path / "ckpt")
    stored = load_file(str(path / "model.safetensors"))
    assert not any(k.startswith("text.transformer.") for k in stored)
    assert model.cfg.text_layer == "proj"  # the cpu preset's
    assert any(k.startswith("text.proj.") for k in stored)
    loaded = load_checkpoint(path).eval()
    assert loaded.cfg == model.cfg and isinstance(loaded.vocab, SubwordVocab)
    ids, n = vocab.encode("the crimson disc left of the star", 12)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    args = (torch.tensor(ids[None]), torch.tensor([n]))
    with torch.no_grad():
        a = model(*args, image=x, ref_image=x.flip(-1)).logits
        b = loaded(*args, image=x, ref_image=x.flip(-1)).logits
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_the_truncation_note_counts_word_pieces_not_words(vocab):
    """hf_tokens reads ``max_tokens`` − 2 pieces ([CLS] and [SEP] take two): a few rare words
    can overflow it where a word count would not, and the note names the last word read whole."""
    tok = vocab.tokenizer
    short = "the red circle"
    assert vocab.truncation_note(short, 8) is None  # 3 pieces of 6
    rare = "the supercalifragilistic circle"  # 3 words, many pieces
    pieces = tok.tokenize(rare)
    assert len(pieces) > 6 and pieces[1] == "super"
    note = vocab.truncation_note(rare, 8)
    assert (
        note
        == f'expression has {len(pieces)} word pieces; the model reads the first 6 (up to "the")'
    )
    # the cut right after a whole word: that word is the last one read
    seven = "one two three four five six seven"  # one piece each
    assert vocab.truncation_note(seven, 8) == (
        'expression has 7 word pieces; the model reads the first 6 (up to "six")'
    )
    assert vocab.truncation_note(seven, 9) is None
    # the word is quoted as written, and punctuation is not a word
    assert vocab.truncation_note("One, Two, THREE, four five six seven", 8).endswith(
        '(up to "THREE")'
    )
    # what the note says is what encode keeps
    ids, n = vocab.encode(seven, 8)
    assert tok.decode(ids[1 : n - 1]) == "one two three four five six"


def test_read_part_is_the_text_whose_words_are_read_whole(vocab):
    """What the unseen-word warning checks: words cut off are not read, so not warned about."""
    seven = "one two three four five six seven"
    assert vocab.read_part(seven, 9) == seven
    assert vocab.read_part(seven, 8) == "one two three four five six "
    # a word the cut falls inside is read only in part: left out with what follows
    assert vocab.read_part("the supercalifragilistic circle", 8) == "the "
    assert vocab.truncation_note(vocab.read_part(seven, 8), 8) is None


def test_a_checkpoint_refuses_a_text_model_whose_files_differ(tmp_path):
    """The checkpoint records the text model's digest next to its name; a stored digest that
    is not the installed model's is refused with the reason, and a checkpoint from before the
    digest (its name only) still loads."""
    import json

    from tvnet.checkpoint import CheckpointError
    from tvnet.model.hf_text import DIGEST_PREFIX, HF_PREFIX, text_model_digest

    torch.manual_seed(0)
    model = build_model(
        "cpu", "baseline", pretrained=False, text_encoder="hf_tokens", input_size=64, d_s=16
    ).eval()
    path = save_checkpoint(model, tmp_path / "ckpt")
    cfg_file = path / "config.json"
    meta = json.loads(cfg_file.read_text())
    digest = text_model_digest(PACKAGE_MINILM)
    assert meta["vocab"] == [HF_PREFIX + PACKAGE_MINILM, DIGEST_PREFIX + digest]
    assert len(digest) == 64 and int(digest, 16) >= 0
    load_checkpoint(path)
    meta["vocab"][1] = DIGEST_PREFIX + "0" * 64  # trained on other files under the same name
    cfg_file.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="files differ from the one installed here"):
        load_checkpoint(path)
    meta["vocab"] = meta["vocab"][:1]  # recorded before digests: taken on its name
    cfg_file.write_text(json.dumps(meta))
    assert isinstance(load_checkpoint(path).vocab, SubwordVocab)


def test_the_digest_follows_the_files_content(tmp_path, monkeypatch):
    from tvnet.model.hf_text import text_model_digest

    monkeypatch.setenv("TVNET_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    weights = folder / "model.safetensors"
    weights.write_bytes(b"a" * 1000)
    first = text_model_digest(str(folder))
    assert text_model_digest(str(folder)) == first  # from the cache record now
    assert len(list((tmp_path / "cache" / "text-digest").glob("*.json"))) == 1
    weights.write_bytes(b"b" * 1000)  # same size, other bytes (and a new mtime)
    second = text_model_digest(str(folder))
    assert second != first
    weights.write_bytes(b"a" * 1000)
    assert text_model_digest(str(folder)) == first  # the content, not the time, decides


def test_the_vocab_encodes_from_several_threads_at_once():
    """One tokenizer behind every call: truncation switched on for encode and off for
    unknown by other threads used to cut or overflow a row ("could not broadcast …")."""
    import threading

    v = SubwordVocab()
    sent = "the small red striped star left of the blue circle " * 3
    want_ids, want_n = v.encode(sent, 20)
    errors = []

    def work():
        try:
            for _ in range(100):
                ids, n = v.encode(sent, 20)
                assert (ids == want_ids).all() and n == want_n
                assert v.unknown("a crimson 🦄 thing") == ["🦄"]
        except Exception as e:  # noqa: BLE001 — reported below, with the thread's error
            errors.append(repr(e))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
