"""Events on their way in: the journal every hit is appended to before it is answered,
the recorder that batches hits into it, and the loader that moves them into the store."""
