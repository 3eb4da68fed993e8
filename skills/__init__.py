"""Skills: py_trees leaves (grasp, push_then_grasp, reset, completion_check, conditions), their registry."""
