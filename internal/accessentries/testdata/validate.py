"""Validates EKS request documents against the installed botocore's own EKS
service model: botocore's parameter validator (required members, types,
min lengths and ranges), then the model's enums, patterns and max lengths,
which that validator leaves to the service.

Usage: validate.py OPERATION DOC.json... ; prints one line per problem and
exits 1 when there is any; prints the model's path first."""
import json
import re
import sys

import botocore.session
from botocore.validate import ParamValidator

session = botocore.session.get_session()
model = session.get_service_model("eks")
print("model: eks", model.api_version, "of botocore", botocore.__version__)

op = model.operation_model(sys.argv[1])
problems = []


def walk(shape, value, where):
    if shape.type_name == "structure":
        for k in shape.required_members:
            if k not in value:
                problems.append(f"{where}: missing required {k}")
        for k, v in value.items():
            if k not in shape.members:
                problems.append(f"{where}: unknown member {k}")
                continue
            walk(shape.members[k], v, f"{where}.{k}")
    elif shape.type_name == "list":
        for i, v in enumerate(value):
            walk(shape.member, v, f"{where}[{i}]")
    elif shape.type_name == "string":
        m = shape.metadata
        if shape.enum and value not in shape.enum:
            problems.append(f"{where}: {value!r} not one of {shape.enum}")
        if "pattern" in m and not re.match(m["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {m['pattern']}")
        if "max" in m and len(value) > m["max"]:
            problems.append(f"{where}: longer than {m['max']}")
        if "min" in m and len(value) < m["min"]:
            problems.append(f"{where}: shorter than {m['min']}")


for path in sys.argv[2:]:
    with open(path) as f:
        doc = json.load(f)
    report = ParamValidator().validate(doc, op.input_shape)
    if report.has_errors():
        problems.append(f"{path}: {report.generate_report()}")
    walk(op.input_shape, doc, path)

for p in problems:
    print("problem:", p)
sys.exit(1 if problems else 0)
