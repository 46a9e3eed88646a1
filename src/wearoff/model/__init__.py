"""The science of wearoff: pure functions and small value objects, free of I/O beyond the shipped data files."""
