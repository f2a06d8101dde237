"""The stack config's sections, one module each: its frozen dataclass(es), the function that reads it from the raw
config (`parse_<section>`) and the checks about it, including those that read other sections (`config/loader.py`
calls them in order). The edge and global sections are in `config/regions.py`.
"""
