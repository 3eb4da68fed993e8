"""Controllers: the DiT policy, encoders, mask trackers, demonstration data, training, the scripted expert."""
