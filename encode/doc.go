// Package encode turns text and images into CLIP embeddings through ONNX
// Runtime: the CLIP BPE tokenizer, image preprocessing, and the text and
// image towers of an exported CLIP model. It is the only package with cgo.
package encode
