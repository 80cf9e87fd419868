from . import test_spare_parts
