#!/usr/bin/python3
"""Generates the tiny CLIP-shaped ONNX models, test images and expected
outputs used by encode's tests, so that Go tests need no Python.

Run from encode/testdata with Debian's system Python (python3-onnx,
python3-numpy, python3-pil, python3-regex):

    /usr/bin/python3 gen_models.py /path/to/bpe_simple_vocab_16e6.txt.gz

The models are deterministic functions with the real exports' signatures,
not CLIP: they are there to exercise the whole path (tokenizer, ONNX
Runtime, input/output discovery, batching, preprocessing, normalisation).

  text tower:  ids → (Ea[ids mod 97] + Eb[ids mod 89] + P[position]) * mask
               → cumulative sum over positions → the row at argmax(ids)
               (CLIP's EOT pooling) → tanh(0.1 x) → x W  (D = 32)
  image tower: pixels [B,3,224,224] → 32×32 average pool → [B,147]
               → tanh(x W1) → x W2  (D = 32)

Folders written under models/:
  hf/          text_model.onnx (input_ids → text_embeds, no attention_mask)
               vision_model.onnx (pixel_values → image_embeds), config.json
  hf-mask/     text_model.onnx with input_ids + attention_mask,
               vision_model.onnx, tokenizer files absent (uses --vocab)
  combined/    model.onnx: input_ids, pixel_values, attention_mask →
               logits_per_image, logits_per_text, text_embeds, image_embeds
  openclip/    textual.onnx (text int32 → text_features) and
               visual.onnx (image → image_features)
  badnames/    text_model.onnx and vision_model.onnx with unknown names

Expected outputs (computed here in numpy, not by ONNX Runtime) go to
expected.json; reference preprocessing (PIL) crops go to images/*.ref.png.
"""
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_tokens import SimpleTokenizer, tokenize  # noqa: E402

H, D, CTX = 16, 32, 77
rng = np.random.default_rng(20231126)
Ea = rng.normal(0, 1, (97, H)).astype(np.float32)
Eb = rng.normal(0, 1, (89, H)).astype(np.float32)
P = rng.normal(0, 0.5, (CTX, H)).astype(np.float32)
Wt = rng.normal(0, 1 / math.sqrt(H), (H, D)).astype(np.float32)
W1 = rng.normal(0, 1 / math.sqrt(147), (147, H)).astype(np.float32) * 4
W2 = rng.normal(0, 1 / math.sqrt(H), (H, D)).astype(np.float32)
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
OPSET = [helper.make_opsetid("", 13)]


def init(name, arr):
    return numpy_helper.from_array(arr, name)


def text_nodes(ids, mask, out, prefix="t_"):
    """Nodes computing the text tower from int64 ids (and optional mask)."""
    p = prefix
    nodes = [
        helper.make_node("Mod", [ids, p + "m97"], [p + "ia"]),
        helper.make_node("Mod", [ids, p + "m89"], [p + "ib"]),
        helper.make_node("Gather", [p + "Ea", p + "ia"], [p + "ea"]),
        helper.make_node("Gather", [p + "Eb", p + "ib"], [p + "eb"]),
        helper.make_node("Add", [p + "ea", p + "eb"], [p + "e1"]),
        helper.make_node("Add", [p + "e1", p + "P"], [p + "x0"]),
    ]
    x = p + "x0"
    if mask:
        nodes += [
            helper.make_node("Cast", [mask], [p + "mf"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", [p + "mf", p + "axm1"], [p + "mfu"]),
            helper.make_node("Mul", [x, p + "mfu"], [p + "x1"]),
        ]
        x = p + "x1"
    nodes += [
        helper.make_node("CumSum", [x, p + "ax1"], [p + "cs"]),
        helper.make_node("ArgMax", [ids], [p + "eot"], axis=1, keepdims=1),
        helper.make_node("Equal", [p + "range", p + "eot"], [p + "sel_b"]),
        helper.make_node("Cast", [p + "sel_b"], [p + "sel"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", [p + "sel", p + "axm1"], [p + "selu"]),
        helper.make_node("Mul", [p + "cs", p + "selu"], [p + "picked"]),
        helper.make_node("ReduceSum", [p + "picked", p + "ax1"], [p + "pooled"], keepdims=0),
        helper.make_node("Mul", [p + "pooled", p + "tenth"], [p + "scaled"]),
        helper.make_node("Tanh", [p + "scaled"], [p + "h"]),
        helper.make_node("MatMul", [p + "h", p + "Wt"], [out]),
    ]
    inits = [
        init(p + "m97", np.array(97, dtype=np.int64)),
        init(p + "m89", np.array(89, dtype=np.int64)),
        init(p + "Ea", Ea), init(p + "Eb", Eb), init(p + "P", P), init(p + "Wt", Wt),
        init(p + "axm1", np.array([-1], dtype=np.int64)),
        init(p + "ax1", np.array([1], dtype=np.int64)),
        init(p + "range", np.arange(CTX, dtype=np.int64).reshape(1, CTX)),
        init(p + "tenth", np.array(0.1, dtype=np.float32)),
    ]
    return nodes, inits


def image_nodes(pix, out, prefix="v_"):
    p = prefix
    nodes = [
        helper.make_node("AveragePool", [pix], [p + "pool"], kernel_shape=[32, 32], strides=[32, 32]),
        helper.make_node("Flatten", [p + "pool"], [p + "flat"], axis=1),
        helper.make_node("MatMul", [p + "flat", p + "W1"], [p + "z"]),
        helper.make_node("Tanh", [p + "z"], [p + "h"]),
        helper.make_node("MatMul", [p + "h", p + "W2"], [out]),
    ]
    return nodes, [init(p + "W1", W1), init(p + "W2", W2)]


def ids_input(name, dtype=TensorProto.INT64, batch="batch"):
    return helper.make_tensor_value_info(name, dtype, [batch, CTX])


def pix_input(name, batch="batch"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, 3, 224, 224])


def emb_output(name, batch="batch"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, D])


def save(graph, path):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="laiondb gen_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)


def text_model(path, mask=False, in_name="input_ids", out_name="text_embeds", int32=False, mask_name="attention_mask"):
    nodes, inits = [], []
    ids = in_name
    inputs = [ids_input(in_name, TensorProto.INT32 if int32 else TensorProto.INT64)]
    if int32:
        nodes.append(helper.make_node("Cast", [in_name], ["ids64"], to=TensorProto.INT64))
        ids = "ids64"
    if mask:
        inputs.append(ids_input(mask_name))
    n, i = text_nodes(ids, mask_name if mask else None, out_name)
    save(helper.make_graph(nodes + n, "text", inputs, [emb_output(out_name)], inits + i), path)


def vision_model(path, in_name="pixel_values", out_name="image_embeds"):
    n, i = image_nodes(in_name, out_name)
    save(helper.make_graph(n, "vision", [pix_input(in_name)], [emb_output(out_name)], i), path)


def combined_model(path):
    tn, ti = text_nodes("input_ids", "attention_mask", "text_raw")
    vn, vi = image_nodes("pixel_values", "image_raw")
    nodes = tn + vn + [
        helper.make_node("LpNormalization", ["text_raw"], ["text_embeds"], axis=1, p=2),
        helper.make_node("LpNormalization", ["image_raw"], ["image_embeds"], axis=1, p=2),
        helper.make_node("Transpose", ["text_embeds"], ["text_t"], perm=[1, 0]),
        helper.make_node("MatMul", ["image_embeds", "text_t"], ["lpi"]),
        helper.make_node("Mul", ["lpi", "scale"], ["logits_per_image"]),
        helper.make_node("Transpose", ["logits_per_image"], ["logits_per_text"], perm=[1, 0]),
    ]
    inputs = [ids_input("input_ids", batch="text_batch"), pix_input("pixel_values", batch="image_batch"),
              ids_input("attention_mask", batch="text_batch")]
    outputs = [
        helper.make_tensor_value_info("logits_per_image", TensorProto.FLOAT, ["image_batch", "text_batch"]),
        helper.make_tensor_value_info("logits_per_text", TensorProto.FLOAT, ["text_batch", "image_batch"]),
        emb_output("text_embeds", "text_batch"),
        emb_output("image_embeds", "image_batch"),
    ]
    inits = ti + vi + [init("scale", np.array(100.0, dtype=np.float32))]
    save(helper.make_graph(nodes, "clip", inputs, outputs, inits), path)


# ---- numpy reference forward passes -------------------------------------

def np_text(ids):
    ids = np.asarray(ids, dtype=np.int64)
    x = Ea[ids % 97] + Eb[ids % 89] + P[None, :, :]
    cs = np.cumsum(x, axis=1, dtype=np.float64)
    eot = ids.argmax(axis=1)
    pooled = cs[np.arange(len(ids)), eot]
    h = np.tanh(pooled * 0.1)
    return l2(h @ Wt)


def np_image(pix):
    b = pix.shape[0]
    pooled = pix.reshape(b, 3, 7, 32, 7, 32).astype(np.float64).mean(axis=(3, 5))
    h = np.tanh(pooled.reshape(b, 147) @ W1)
    return l2(h @ W2)


def l2(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# ---- CLIP preprocessing with PIL, as torchvision does it ------------------

def clip_crop(img):
    """Resize(224, BICUBIC) + CenterCrop(224) + convert('RGB') → uint8 HWC."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = 224, int(224 * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    img = img.resize((new_w, new_h), Image.BICUBIC)
    left = int(round((new_w - 224) / 2.0))
    top = int(round((new_h - 224) / 2.0))
    img = img.crop((left, top, left + 224, top + 224))
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def pixel_values(crop):
    x = crop.astype(np.float32) / np.float32(255)
    x = (x - MEAN) / STD
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def make_images(outdir):
    os.makedirs(outdir, exist_ok=True)
    """Small synthetic test images in several modes and formats."""
    r = np.random.default_rng(7)
    files = {}

    def scene(w, h):
        yy, xx = np.mgrid[0:h, 0:w]
        a = np.stack([
            128 + 100 * np.sin(xx / 9.0) * np.cos(yy / 13.0),
            255 * xx / max(w - 1, 1),
            255 * yy / max(h - 1, 1),
        ], axis=-1)
        a[: h // 6, : w // 6] += r.normal(0, 20, a[: h // 6, : w // 6].shape)  # a noisy corner
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
        d = ImageDraw.Draw(im)
        d.ellipse((w * 0.2, h * 0.2, w * 0.6, h * 0.7), fill=(230, 40, 40))
        d.rectangle((w * 0.55, h * 0.1, w * 0.9, h * 0.45), fill=(20, 20, 200))
        d.line((0, h - 1, w - 1, 0), fill=(255, 255, 255), width=3)
        return im

    im = scene(300, 200)
    im.save(os.path.join(outdir, "landscape.png"))
    files["landscape.png"] = im
    im = scene(150, 263).convert("RGBA")
    a = np.asarray(im).copy()
    a[..., 3] = np.clip(np.mgrid[0:263, 0:150][1] * 2, 0, 255)
    a[:40, :40, 3] = 0
    im = Image.fromarray(a, "RGBA")
    im.save(os.path.join(outdir, "portrait_alpha.png"))
    files["portrait_alpha.png"] = im
    im = scene(97, 131).convert("L")
    im.save(os.path.join(outdir, "gray.png"))
    files["gray.png"] = im
    im = scene(240, 250).convert("P", palette=Image.ADAPTIVE, colors=64)
    im.save(os.path.join(outdir, "palette.png"))
    files["palette.png"] = im
    im = scene(320, 240)
    im.save(os.path.join(outdir, "photo.jpg"), quality=90)
    files["photo.jpg"] = None
    im = scene(230, 224)
    im.save(os.path.join(outdir, "lossless.webp"), lossless=True)
    files["lossless.webp"] = None
    im.save(os.path.join(outdir, "lossy.webp"), quality=90)
    files["lossy.webp"] = None
    return sorted(files)


TEXTS = ["a photo of a cat", "Hello World!", "beautiful", "", "desi aunty in a red saree",
         "a very long caption " * 30, "emoji 😀 and café &amp; 3.14"]


def main():
    tok = SimpleTokenizer(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(here)
    text_model("models/hf/text_model.onnx")
    vision_model("models/hf/vision_model.onnx")
    with open("models/hf/config.json", "w") as f:
        json.dump({"_name_or_path": "tiny-clip-test", "projection_dim": D}, f)
    text_model("models/hf-mask/text_model.onnx", mask=True)
    vision_model("models/hf-mask/vision_model.onnx")
    combined_model("models/combined/model.onnx")
    text_model("models/openclip/textual.onnx", in_name="text", out_name="text_features", int32=True)
    vision_model("models/openclip/visual.onnx", in_name="image", out_name="image_features")
    text_model("models/badnames/text_model.onnx", in_name="tokens_x", out_name="foo", mask=True, mask_name="bar")
    vision_model("models/badnames/vision_model.onnx", in_name="pix_x", out_name="baz")

    names = make_images("images")
    exp = {"dim": D, "texts": [], "images": []}
    for t in TEXTS:
        ids = tokenize(tok, t)
        padded = ids + [0] * (CTX - len(ids))
        exp["texts"].append({"text": t, "ids": ids, "embedding": np_text([padded])[0].round(7).tolist()})
    for n in names:
        img = Image.open(os.path.join("images", n))
        crop = clip_crop(img)
        Image.fromarray(crop, "RGB").save(os.path.join("images", n.rsplit(".", 1)[0] + ".ref.png"))
        exp["images"].append({"file": n, "mode": img.mode, "size": list(img.size),
                              "embedding": np_image(pixel_values(crop))[0].round(7).tolist()})
    with open("expected.json", "w") as f:
        json.dump(exp, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
