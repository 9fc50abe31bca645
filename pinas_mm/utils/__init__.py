# Copyright (c) pinas_mm contributors. All rights reserved.
# Kept free of OpenMMLab imports: check_env must run before any of them.
