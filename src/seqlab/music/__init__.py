"""Jazz improvisation (the course's third application): music21 for the music, the engine for the LSTM.

midi (read a MIDI file, pick the solo and chords, cut a section into measures) -> grammar (measures as
deepjazz's abstract values, and back to notes) -> corpus (vocabulary and training windows) -> model/train
(LSTM 64 + softmax Dense, Adam) -> improvise (new values, new notes) -> render (MIDI, WAV, PNG) and quality
(chord tones, key correlation, copied runs). bundle saves and loads a trained model with its chords.
changes reads chord symbols ("Dm7 G7 | Cmaj7") and holds the built-in progressions; perform goes from a
player's settings (changes, choruses, tempo, instrument, swing, primer) to a solo and its files in one call.
"""
