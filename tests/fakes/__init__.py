"""Fake UCI engines for the fault tests: as a process, or in-process through the launch seam."""
