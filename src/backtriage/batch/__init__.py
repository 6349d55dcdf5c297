"""Screening many clinical notes for red flags that were written down but not acted on.

`screen.NoteScreener` reads one note; `screen.screen_batch` reads an Arrow batch of them (the
unit both engines run); `sources` turns CSV, JSON lines, Parquet or a folder of text files into
such batches; `embedded` runs them on this machine's cores with resumable output.
"""
