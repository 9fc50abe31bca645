# Copyright (c) pinas_mm contributors. All rights reserved.
