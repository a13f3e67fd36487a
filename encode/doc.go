// Package encode turns text and images into CLIP embeddings through ONNX
// Runtime: the CLIP BPE tokenizer, image preprocessing, and the text and
// image towers of an exported CLIP model. It is the only package with cgo.
//
// # Use
//
//	m, err := encode.Open("models/clip-vit-b-32", nil) // or "" for $LAIONDB_MODEL
//	if err != nil { ... }
//	defer m.Close()
//	q, err := m.EncodeText(ctx, []string{"beautiful"})      // [][]float32, L2-normalised
//	v, err := m.EncodeImage(ctx, []string{"photo.jpg"})     // same space, same Dim()
//	sim := encode.Cosine(q[0], v[0])
//
// # ONNX Runtime
//
// The shared library is found by InitRuntime (Open calls it): the path
// given (Options.LibPath, the CLI's --ort-lib), else $LAIONDB_ORT_LIB,
// else third_party/onnxruntime/libonnxruntime.so.1 under the laiondb
// checkout above the working directory or the executable.
// scripts/install-onnxruntime.sh puts ONNX Runtime 1.24.3 there (the
// version github.com/yalue/onnxruntime_go v1.27.0 is built for). The
// environment is initialised once per process.
//
// # Model folder
//
// Open(dir) takes a folder (dir, or $LAIONDB_MODEL) and looks for, in order:
//
//   - the text tower: text_model.onnx, textual.onnx, text_encoder.onnx,
//     text.onnx, textual/model.onnx, text/model.onnx, onnx/text_model.onnx;
//   - the image tower: vision_model.onnx, visual.onnx, image_encoder.onnx,
//     image_model.onnx, vision.onnx, visual/model.onnx, vision/model.onnx,
//     onnx/vision_model.onnx;
//   - a combined model, model.onnx or onnx/model.onnx (Hugging Face
//     optimum's CLIPModel export), for a tower not found on its own; the
//     other tower's input gets a one-row dummy on each run;
//   - the tokenizer (only with a text tower; Options.Vocab overrides):
//     bpe_simple_vocab_16e6.txt.gz (OpenAI's merges file), tokenizer.json,
//     vocab.json with merges.txt next to it, also under textual/ or
//     tokenizer/;
//   - the name: "name", "model_name" or "_name_or_path" of config.json or
//     open_clip_config.json, else the folder's name.
//
// Inputs and outputs are found by name, read from the model:
//
//   - text input: input_ids, text, input, tokens or input_text (int64 or
//     int32, [batch, 77]), or the model's only integer input;
//     attention_mask is fed when the model has it (1 up to and including
//     <|endoftext|>);
//   - image input: pixel_values, image, images, input or
//     pixel_values_input (float32 [batch, 3, S, S]; S is read from the
//     model, 224 when symbolic), or the model's only float input;
//   - output: text_embeds / image_embeds, text_features / image_features,
//     *_embedding(s), embeddings, embedding, output, or the model's only
//     float32 [batch, D] output. Unprojected outputs (last_hidden_state,
//     pooler_output) are not CLIP embeddings and are refused.
//
// Any other input, or none of these, is an error listing what the model
// has. Both towers must give the same D. Outputs are L2-normalised here
// whether or not the export normalises them.
//
// # Exporting a model
//
// laiondb needs a CLIP model's two towers as ONNX files, with the
// tokenizer, in one folder:
//
//   - Hugging Face: optimum's export of a CLIPModel, e.g.
//     optimum-cli export onnx --model openai/clip-vit-base-patch32 DIR,
//     writes DIR/model.onnx (both towers; outputs text_embeds and
//     image_embeds) with tokenizer.json and config.json: point --model at
//     DIR. Separate text_model.onnx and vision_model.onnx files (a
//     CLIPTextModelWithProjection and a CLIPVisionModelWithProjection
//     export) work too.
//   - open_clip: export model.encode_text and model.encode_image with
//     torch.onnx.export (a dynamic batch axis; inputs text [batch, 77]
//     int64 and image [batch, 3, S, S] float32) as textual.onnx and
//     visual.onnx, and put the tokenizer (bpe_simple_vocab_16e6.txt.gz or
//     tokenizer.json) and open_clip_config.json beside them.
//
// The embeddings must come from the model that made the store's
// embeddings (LAION-400M: ViT-B/32 openai; LAION-5B: ViT-L/14) for the
// scores to mean anything; laiondb warns when the model's name differs
// from the one the store records.
//
// # Tokenizer
//
// Tokenizer reproduces OpenAI CLIP's SimpleTokenizer (checked against it on
// 400 strings, testdata/tokens.json): ftfy's fixes that matter for web text
// (curly quotes, Latin ligatures, full-width forms, control characters,
// terminal escapes, C1 controls, one extra HTML unescape when the text has
// no '<'; not mojibake repair or NFC), Python's html.unescape twice,
// whitespace runs to one space, Python's str.lower, the pre-tokenisation
// pattern, bytes_to_unicode, byte-level BPE with the </w> suffix, and the
// vocabulary built from merges 1..48894 of the merges file. Tokenize
// frames the ids with <|startoftext|> (49406) and <|endoftext|> (49407),
// cuts them to 77 keeping <|endoftext|> last, and pads with PadID: 0 as
// OpenAI and open_clip do, or the pad token a Hugging Face export's
// tokenizer files name. CLIP's text towers pool at the first position of
// the largest id (<|endoftext|>) under a causal mask, so padding does not
// change their output.
//
// # Image preprocessing
//
// CenterCrop and PixelValues compute what CLIP's torchvision transform
// computes on a PIL image: Resize(224, BICUBIC) of the short side (the long
// side to int(224*long/short)) with Pillow's antialiased bicubic (a = -0.5,
// support widened by the downscale factor, 22-bit fixed-point weights,
// horizontal then vertical pass with 8-bit rounding in between), a centre
// crop with torchvision's round-half-even offsets, RGB, /255 and
// normalisation by ClipMean and ClipStd in float32. Pillow's mode quirks
// are kept: palette images are resized nearest-neighbour, images with
// transparency are resized premultiplied (transparent pixels turn black).
// Decoding follows the C libraries Pillow uses: JPEG chroma is upsampled
// and converted as libjpeg does (fancy upsampling, its fixed-point tables),
// lossy WebP as libwebp does. Against Pillow 9.4, crops of PNG (RGB, RGBA,
// grey, palette) and WebP (lossy and lossless) files are identical; JPEG
// crops differ by at most 3 levels (Go's IDCT rounds differently from
// libjpeg's), see image_test.go. 16-bit and CMYK images are approximate.
// EXIF orientation is ignored, as CLIP's pipeline ignores it.
//
// # Test data
//
// testdata/gen_models.py (Debian's python3-onnx, python3-numpy,
// python3-pil) writes tiny deterministic models with the real exports'
// signatures (Hugging Face split, with attention_mask, combined, open_clip
// naming), test images, Pillow's reference crops and the numpy-computed
// embeddings the tests compare with; testdata/gen_tokens.py writes the
// reference token ids with CLIP's own tokenizer code.
package encode

//go:generate sh -c "/usr/bin/python3 gen_entities.py && gofmt -w html_entities.go"
