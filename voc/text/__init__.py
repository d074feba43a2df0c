"""Text stages: normalisation, PII masking, tokenisation, MinHash fingerprints and new-word discovery.

Import from the submodules (``voc.text.normalize``, ``voc.text.pii``, ``voc.text.tokenize``,
``voc.text.minhash``, ``voc.text.words``); nothing is loaded until then, so importing one stage
does not pay for jieba or OpenCC.
"""
