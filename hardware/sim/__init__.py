"""The MuJoCo simulation: embodiment, procedural scenes, rendering, ground truth, scripted expert."""
