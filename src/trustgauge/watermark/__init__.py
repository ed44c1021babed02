"""Watermarking generated text and detecting the mark (Fan et al.'s responsibility dimension)."""
