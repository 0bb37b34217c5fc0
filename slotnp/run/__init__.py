"""What surrounds a run: its configuration and command line, the run folder, checkpoints,
export, the memory estimate, plots, sweeps' collation, and what older runs need to load."""
