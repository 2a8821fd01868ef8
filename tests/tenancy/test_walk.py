"""No route lets one account reach another's objects, and no new route escapes this check.

Every operation in the OpenAPI document is walked: attacker B (owner of its own account, so no
role check hides the tenancy check) calls it with B's own values everywhere but one place,
which carries victim A's id: each id path parameter, `x-account-id`, each id query parameter
and each id field of the request body, one call per place. The answer must be 404 (403
`not_a_member` for `x-account-id`; an empty page for filters) and show none of A's ids. On
GET routes B's own call must work, so it is A's id that makes the difference. Everything A can
read is compared before and after the walk, so an attempt that answered 404 but changed A's
data still fails. What the walk needs per id, per body and per exempt route is `registry.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from tests.helpers import register
from tests.tenancy.registry import (
    ADDRESS_ROUTES,
    BODIES,
    BODY_FIELDS_NOT_IDS,
    EXEMPT,
    FACTORIES,
    FILTERS,
    FORBIDDEN,
    ID_NAME,
    NOT_IDS,
    PENDING,
    VALUES,
    Body,
    BodyExample,
    Form,
    World,
    factory_name,
    ids_for,
)

REGISTRY = "tests/tenancy/registry.py"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[tuple[str, str, bool], ...]  # (in, name, required)
    body_fields: frozenset[str]  # id-named fields anywhere in the request body

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def id_parameters(self) -> list[tuple[str, str, bool]]:
        return [p for p in self.parameters if ID_NAME.search(p[1])]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def _id_fields(spec: dict[str, Any], schema: dict[str, Any], seen: set[str]) -> set[str]:
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return set()
        seen.add(schema["$ref"])
    schema = _resolve(spec, schema)
    found: set[str] = set()
    for name, sub in schema.get("properties", {}).items():
        if ID_NAME.search(name):
            found.add(name)
        found |= _id_fields(spec, sub, seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, []):
            found |= _id_fields(spec, sub, seen)
    if "items" in schema:
        found |= _id_fields(spec, schema["items"], seen)
    return found


def operations(spec: dict[str, Any]) -> list[Operation]:
    found = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            parameters = tuple(
                (p["in"], p["name"], bool(p.get("required"))) for p in op.get("parameters", [])
            )
            fields: set[str] = set()
            for content in op.get("requestBody", {}).get("content", {}).values():
                fields |= _id_fields(spec, content["schema"], set())
            found.append(Operation(method.upper(), path, parameters, frozenset(fields)))
    return found


# Bodies: which id lands in which field --------------------------------------------------------


def _marker(name: str) -> str:
    return f"<{name}>"


def _fields_of(body: Body) -> Iterator[tuple[str, str]]:
    """(field, id name) for every field the example filled from `ids`."""

    def walk(value: Any, key: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, k)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item, key)
        elif isinstance(value, str) and value.startswith("<") and value.endswith(">"):
            yield key, value[1:-1]

    yield from walk(body.data if isinstance(body, Form) else body, "")


def attacked_names(op: Operation, example: BodyExample) -> list[str]:
    """The id names whose value the walk swaps for A's in this example body."""
    return sorted(
        {
            name
            for field_name, name in _fields_of(example(_marker))
            if (op.method, op.path, field_name) not in BODY_FIELDS_NOT_IDS
        }
    )


def registry_problems(spec: dict[str, Any]) -> list[str]:
    problems = []
    ops = operations(spec)
    keys = {op.key for op in ops}
    problems += [
        f"{key}: listed in EXEMPT but no such route (remove it from {REGISTRY})"
        for key in EXEMPT
        if key not in keys
    ]
    problems += [
        f"{key}: listed in BODIES but no such route (remove it from {REGISTRY})"
        for key in BODIES
        if key not in keys
    ]
    problems += [
        f"{key}: listed in PENDING but no such route (remove it from {REGISTRY})"
        for key in PENDING
        if key not in keys
    ]
    for op in ops:
        if op.key in EXEMPT or op.key in PENDING:
            continue
        if not op.id_parameters() and not op.body_fields:
            problems.append(
                f"{op.key}: takes no id; list it in EXEMPT in {REGISTRY} with the reason"
            )
        for where, name, required in op.parameters:
            if ID_NAME.search(name):
                if factory_name(op.path, name) not in FACTORIES:
                    problems.append(
                        f"{op.key}: {where} parameter {name!r} is an id the walk cannot make; "
                        f'add @factory("{name}") in {REGISTRY}'
                    )
            elif name not in NOT_IDS:
                problems.append(
                    f"{op.key}: {where} parameter {name!r} is unknown; add a factory for it "
                    f"or list it in NOT_IDS in {REGISTRY}"
                )
            elif required and name not in VALUES:
                problems.append(
                    f"{op.key}: required parameter {name!r} needs a value in VALUES ({REGISTRY})"
                )
        has_body = bool(spec["paths"][op.path][op.method.lower()].get("requestBody"))
        if has_body and op.key not in BODIES:
            problems.append(f"{op.key}: takes a body; add a valid example to BODIES in {REGISTRY}")
            continue
        filled: set[str] = set()
        for example in BODIES.get(op.key, []):
            for field_name, name in _fields_of(example(_marker)):
                filled.add(field_name)
                if factory_name(op.path, name) not in FACTORIES:
                    problems.append(f'{op.key}: body uses ids("{name}"); add its factory')
        for field_name in sorted(op.body_fields - filled):
            if (op.method, op.path, field_name) not in BODY_FIELDS_NOT_IDS:
                problems.append(
                    f"{op.key}: body field {field_name!r} is never filled with an id by its "
                    f"examples in BODIES (or say why it is no id in BODY_FIELDS_NOT_IDS)"
                )
    return problems


# Calls --------------------------------------------------------------------------------------


@dataclass
class Call:
    op: Operation
    attacked: str  # where A's id goes, e.g. "path labelId", "" for none
    world: World  # whose credentials make the call
    ids: dict[str, str]  # the values used, by id name
    body: Body | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        path = self.op.path
        for where, name, _ in self.op.parameters:
            if where == "path":
                value = self.ids[name] if name in self.ids else VALUES[name]
                path = path.replace("{" + name + "}", value)
        headers = {**self.world.owner.headers, **self.headers}
        if isinstance(self.body, Form):
            return await client.request(
                self.op.method,
                path,
                params=self.query,
                headers=headers,
                data=self.body.data,
                files=self.body.files,
            )
        return await client.request(
            self.op.method, path, params=self.query, headers=headers, json=self.body
        )


def calls(op: Operation, victim: World, attacker: World) -> list[Call]:
    """B's calls: B's own values everywhere but one place holding A's id, for every place."""
    own = ids_for(op.path, attacker.ids)
    theirs = ids_for(op.path, victim.ids)
    examples = BODIES.get(op.key, [])
    first_body = examples[0](own.__getitem__) if examples else None

    def base(attacked: str, ids: dict[str, str], body: Body | None) -> Call:
        call = Call(op, attacked, attacker, ids, body)
        for where, name, required in op.parameters:
            if where == "header" and name == "x-account-id":
                call.headers[name] = ids[name]
            elif where == "query" and required:
                call.query[name] = ids[name]
        return call

    planned = []
    for where, name, _ in op.id_parameters():
        call = base(f"{where} {name}", {**own, name: theirs[name]}, first_body)
        if where == "query":
            call.query[name] = theirs[name]
        planned.append(call)
    for index, example in enumerate(examples):
        for name in attacked_names(op, example):
            ids = {**own, name: theirs[name]}
            body = example(ids.__getitem__)
            planned.append(base(f"body #{index} {name}", own, body))
    return planned


def control(op: Operation, world: World) -> Call:
    """The same route with only the world's own values, as that world's owner."""
    examples = BODIES.get(op.key, [])
    ids = ids_for(op.path, world.ids)
    call = Call(op, "", world, ids, examples[0](ids.__getitem__) if examples else None)
    for where, name, required in op.parameters:
        if where == "header" and name == "x-account-id":
            call.headers[name] = ids[name]
        elif where == "query" and required:
            call.query[name] = ids[name]
    return call


def verdict(call: Call, response: httpx.Response, victim: World) -> str | None:
    """What is wrong with B's answer, or None."""
    where, _, name = call.attacked.rpartition(" ")
    where = where.split(" ")[0]
    label = f"{call.op.key} with A's {call.attacked}"
    sent = ids_for(call.op.path, victim.ids)[name]
    # Whatever the status, nothing of A's may come back but the id B sent.
    leaked = {key for key, value in victim.ids.items() if value != sent and value in response.text}
    if leaked:
        return f"{label}: the answer shows A's {sorted(leaked)}: {response.text[:200]}"
    if (call.op.key, name) in ADDRESS_ROUTES:
        ok = response.status_code < 500
        return None if ok else f"{label}: {response.status_code} {response.text[:200]}"
    if (where, name) in FILTERS:
        if response.status_code != 200:
            return f"{label}: expected 200 and an empty page, got {response.status_code}"
        rows = response.json()["data"]["rows"]
        return f"{label}: another account's id matched {len(rows)} row(s)" if rows else None
    expected = 403 if (where, name) in FORBIDDEN else 404
    if response.status_code != expected:
        return f"{label}: expected {expected}, got {response.status_code} {response.text[:200]}"
    body = response.json()
    if body.get("status") is not False:
        return f"{label}: not an error envelope: {response.text[:200]}"
    code = FORBIDDEN.get((where, name))
    if code and body["error"]["code"] != code:
        return f"{label}: expected code {code}, got {body['error']['code']}"
    return None


async def snapshot(
    client: httpx.AsyncClient, ops: list[Operation], world: World
) -> dict[str, tuple[int, Any]]:
    """Everything the world's owner can read through the walked GET routes."""
    seen = {}
    for op in ops:
        if op.method == "GET":
            response = await control(op, world).send(client)
            seen[op.key] = (response.status_code, response.content)
    return seen


def walked(spec: dict[str, Any]) -> list[Operation]:
    return [op for op in operations(spec) if op.key not in EXEMPT and op.key not in PENDING]


async def make_world(
    client: httpx.AsyncClient, run_jobs: Any, graph: respx.MockRouter, name: str, phone: str
) -> World:
    world = World(client, await register(client, name=name), run_jobs, phone, graph)
    for id_name in FACTORIES:
        await world.id(id_name)
    return world


async def test_every_route_is_known_to_the_tenancy_walk(app: Any) -> None:
    problems = registry_problems(app.openapi())
    assert not problems, "\n".join(["The tenancy walk cannot cover:", *problems])


async def test_another_accounts_ids_are_not_found_on_any_route(
    app: Any, client: httpx.AsyncClient, run_jobs: Any, graph: respx.MockRouter
) -> None:
    spec = app.openapi()
    assert not registry_problems(spec), "see test_every_route_is_known_to_the_tenancy_walk"
    ops = walked(spec)
    victim = await make_world(client, run_jobs, graph, "Victim", "905551110001")
    attacker = await make_world(client, run_jobs, graph, "Attacker", "905551110002")
    before = await snapshot(client, ops, victim)

    failures = []
    attempts = 0
    for op in ops:
        if op.method == "GET":
            # B's own call works: A's id is what turns the same call into a 404.
            own = await control(op, attacker).send(client)
            if own.status_code >= 400:
                failures.append(f"{op.key} as B with B's ids: {own.status_code} {own.text[:200]}")
        for call in calls(op, victim, attacker):
            attempts += 1
            problem = verdict(call, await call.send(client), victim)
            if problem:
                failures.append(problem)
    assert attempts > len(ops)
    assert not failures, "\n".join(failures)

    after = await snapshot(client, ops, victim)
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, f"B's attempts changed what A reads at: {changed}"
    assert all(status == 200 for status, _ in before.values()), before
