"""The pure core of chapkit: entities, schemas, errors, rules and ports. No I/O, no frameworks."""
