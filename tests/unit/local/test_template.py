"""template.yaml read into functions, routes, consumers and schedules; problems named early."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scout.local.template import TemplateError, load_template, merge_globals, read_dockerfile
from tests.support.functions import ROOT
from tests.support.local_stack import FIXTURE

HANDLER = "def handler(event, context):\n    return event\n"


def project(tmp_path: Path, resources: str, files: dict[str, str] | None = None, header: str = "") -> Path:
    """A template with ``resources`` and the given files, under ``tmp_path``."""
    for name, text in (files if files is not None else {"functions/good/app.py": HANDLER}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    template = tmp_path / "template.yaml"
    body = "Transform: AWS::Serverless-2016-10-31\n" + textwrap.dedent(header) + "Resources:\n"
    template.write_text(body + textwrap.indent(textwrap.dedent(resources), "  "))
    return template


def problems_of(template: Path) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        load_template(template)
    return caught.value.problems


def test_real_template_maps_health_and_openapi_to_the_jobs_function() -> None:
    # Given the project's template.yaml
    template = load_template(ROOT / "template.yaml")
    # Then every HttpApi route is known, with its function's handler, code folder and layer
    routes = {(route.method, route.path): route.function_id for route in template.routes}
    assert routes[("GET", "/health")] == "JobsApiFunction"
    assert routes[("GET", "/openapi.json")] == "JobsApiFunction"
    jobs = template.function("JobsApiFunction")
    assert jobs.handler == "app.handler"
    assert jobs.code_dir == ROOT / "functions" / "jobs_api"
    assert ROOT / "layers" / "scout" in jobs.layer_dirs
    assert jobs.timeout_seconds == 30  # from Globals


def test_fixture_template_reads_every_event_source_shape() -> None:
    # Given the test stack with routes, a standard and a FIFO queue, schedules and an image function
    template = load_template(FIXTURE / "template.yaml")
    # Then the SQS sources carry batch size and partial batch responses
    sources = {source.function_id: source for source in template.sqs_sources}
    assert sources["WorkConsumerFunction"].batch_size == 5
    assert sources["WorkConsumerFunction"].report_batch_item_failures
    assert sources["OrderConsumerFunction"].queue_id == "OrderQueue"
    # And queues carry FIFO, visibility and redrive properties
    order_queue = template.queues["OrderQueue"]
    assert order_queue.fifo
    assert order_queue.content_based_deduplication
    assert order_queue.visibility_timeout == 2
    assert order_queue.redrive is not None
    assert (order_queue.redrive.dead_letter_queue_id, order_queue.redrive.max_receive_count) == (
        "OrderDeadLetterQueue",
        3,
    )
    # And both schedule kinds are read, with the scheduler's Input parsed
    schedules = {schedule.event_name: schedule for schedule in template.schedules}
    assert schedules["EveryMinute"].expression_text == "rate(1 minute)"
    assert schedules["Nightly"].scheduler
    assert schedules["Nightly"].event_input == {"job": "nightly"}
    assert set(template.buckets) == {"ResultsBucket"}


def test_image_function_runs_the_handler_named_by_the_dockerfile_cmd() -> None:
    template = load_template(FIXTURE / "template.yaml")
    image = template.function("ImageFunction")
    assert image.package_type == "Image"
    assert image.handler == "app.handler"
    assert image.code_dir == FIXTURE / "functions" / "image_fn"


def test_image_function_code_is_found_where_the_dockerfile_copies_it_from(tmp_path: Path) -> None:
    # Given a Docker context at the project root that copies the code and a layer into the task root
    dockerfile = (
        "FROM public.ecr.aws/lambda/python:3.11\n"
        "COPY layers/shared/ ${LAMBDA_TASK_ROOT}/\n"
        "COPY functions/scan/worker.py \\\n  ${LAMBDA_TASK_ROOT}/\n"
        'CMD [ "worker.handler" ]\n'
    )
    template = project(
        tmp_path,
        """
        Scan:
          Type: AWS::Serverless::Function
          Properties: {PackageType: Image}
          Metadata: {DockerContext: ., Dockerfile: functions/scan/Dockerfile}
        """,
        files={
            "functions/scan/worker.py": HANDLER,
            "functions/scan/Dockerfile": dockerfile,
            "layers/shared/shared/__init__.py": "",
        },
    )
    # When it is read
    scan = load_template(template).function("Scan")
    # Then the handler runs from the copied code folder, with the copied layer on the path
    assert scan.handler == "worker.handler"
    assert scan.code_dir == tmp_path / "functions" / "scan"
    assert scan.layer_dirs == (tmp_path / "layers" / "shared",)
    assert scan.function_dir == "scan"


def test_unknown_handler_module_is_reported_with_the_function_name(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Broken:
          Type: AWS::Serverless::Function
          Properties: {CodeUri: functions/good, Handler: main.handler, Runtime: python3.11}
        """,
    )
    assert problems_of(template) == ["Broken: handler main.handler: no module main.py in functions/good"]


def test_handler_function_missing_from_its_module_is_reported(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Broken:
          Type: AWS::Serverless::Function
          Properties: {CodeUri: functions/good, Handler: app.handle}
        """,
    )
    assert problems_of(template) == [
        "Broken: handler app.handle: app.py in functions/good defines no 'handle'"
    ]


def test_missing_code_folder_is_reported(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Ghost:
          Type: AWS::Serverless::Function
          Properties: {CodeUri: functions/ghost, Handler: app.handler}
        """,
    )
    assert problems_of(template) == ["Ghost: code folder functions/ghost (CodeUri) does not exist"]


def test_route_of_an_api_definition_pointing_at_no_function_is_reported(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Api:
          Type: AWS::Serverless::HttpApi
          Properties:
            DefinitionBody:
              openapi: "3.0.1"
              paths:
                /orders:
                  get:
                    x-amazon-apigateway-integration:
                      uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/${Orders.Arn}/invocations"
        """,
    )
    [problem] = problems_of(template)
    assert problem.startswith("Api route GET /orders: points at no function in this template")


def test_route_of_an_api_definition_reaches_its_function(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Api:
          Type: AWS::Serverless::HttpApi
          Properties:
            DefinitionBody:
              paths:
                /orders/{id}:
                  x-amazon-apigateway-any-method:
                    x-amazon-apigateway-integration:
                      uri: !GetAtt Good.Arn
        Good:
          Type: AWS::Serverless::Function
          Properties: {CodeUri: functions/good, Handler: app.handler}
        """,
    )
    [route] = load_template(template).routes
    assert (route.method, route.path, route.function_id) == ("ANY", "/orders/{id}", "Good")


def test_event_on_an_api_not_in_the_template_is_reported(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Good:
          Type: AWS::Serverless::Function
          Properties:
            CodeUri: functions/good
            Handler: app.handler
            Events:
              Get:
                Type: HttpApi
                Properties: {ApiId: !Ref MissingApi, Method: GET, Path: /x}
        """,
    )
    assert problems_of(template) == [
        "Good event Get: ApiId {'Ref': 'MissingApi'} is not an AWS::Serverless::HttpApi in this template"
    ]


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    # Given a template with three independent mistakes
    template = project(
        tmp_path,
        """
        Ghost:
          Type: AWS::Serverless::Function
          Properties: {CodeUri: functions/ghost, Handler: app.handler}
        Node:
          Type: AWS::Serverless::Function
          Properties: {CodeUri: functions/good, Handler: app.handler, Runtime: nodejs20.x}
        Queue:
          Type: AWS::SQS::Queue
          Properties: {QueueName: jobs, FifoQueue: true}
        """,
    )
    # Then each is reported, naming its resource
    problems = problems_of(template)
    assert len(problems) == 3
    assert {problem.split(":")[0] for problem in problems} == {"Ghost", "Node", "Queue"}


def test_the_same_route_declared_twice_is_reported(tmp_path: Path) -> None:
    event = "Events: {Get: {Type: HttpApi, Properties: {Method: GET, Path: /same}}}"
    template = project(
        tmp_path,
        f"""
        First:
          Type: AWS::Serverless::Function
          Properties: {{CodeUri: functions/good, Handler: app.handler, {event}}}
        Second:
          Type: AWS::Serverless::Function
          Properties: {{CodeUri: functions/good, Handler: app.handler, {event}}}
        """,
    )
    assert problems_of(template) == ["Second: route GET /same is also declared by First"]


def test_sqs_event_on_a_queue_outside_the_template_is_reported(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Good:
          Type: AWS::Serverless::Function
          Properties:
            CodeUri: functions/good
            Handler: app.handler
            Events:
              Work:
                Type: SQS
                Properties: {Queue: "arn:aws:sqs:us-east-1:123456789012:elsewhere"}
        """,
    )
    [problem] = problems_of(template)
    assert problem.startswith("Good event Work: Queue 'arn:aws:sqs:us-east-1:123456789012:elsewhere' must be")


def test_fifo_queue_with_a_standard_dead_letter_queue_is_reported(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Dead:
          Type: AWS::SQS::Queue
        Orders:
          Type: AWS::SQS::Queue
          Properties:
            FifoQueue: true
            RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 3}
        """,
        files={},
    )
    assert problems_of(template) == ["Orders: the dead-letter queue of a FIFO queue must be a FIFO queue too"]


def test_invalid_schedule_is_reported_and_unsupported_cron_only_warned(tmp_path: Path) -> None:
    template = project(
        tmp_path,
        """
        Good:
          Type: AWS::Serverless::Function
          Properties:
            CodeUri: functions/good
            Handler: app.handler
            Events:
              Bad: {Type: Schedule, Properties: {Schedule: "rate(5 minute)"}}
        """,
    )
    [problem] = problems_of(template)
    assert problem.startswith("Good event Bad: 'rate(5 minute)'")
    template.write_text(template.read_text().replace("rate(5 minute)", "cron(0 12 L * ? *)"))
    loaded = load_template(template)
    assert loaded.schedules[0].expression is None
    assert "not run by the local scheduler" in loaded.warnings[0]


def test_missing_template_and_invalid_yaml_are_reported(tmp_path: Path) -> None:
    assert "does not exist" in problems_of(tmp_path / "template.yaml")[0]
    (tmp_path / "template.yaml").write_text("Resources: [unclosed\n")
    assert problems_of(tmp_path / "template.yaml")[0].startswith("not valid YAML")


def test_globals_merge_maps_append_lists_and_replace_scalars() -> None:
    merged = merge_globals(
        {"Timeout": 30, "Layers": ["a"], "Environment": {"Variables": {"A": "1", "B": "1"}}},
        {"Timeout": 5, "Layers": ["b"], "Environment": {"Variables": {"B": "2"}}},
    )
    assert merged == {"Timeout": 5, "Layers": ["a", "b"], "Environment": {"Variables": {"A": "1", "B": "2"}}}


def test_dockerfile_shell_form_cmd_and_flags_on_copy_are_understood() -> None:
    facts = read_dockerfile("COPY --chown=1000 src/ /var/task/\nCMD app.handler\n")
    assert facts.command == ["app.handler"]
    assert facts.task_root_sources == ("src/",)


def test_sample_events_belong_to_the_function_with_the_longest_matching_folder(tmp_path: Path) -> None:
    # Given functions in folders poll and poll_worker
    template = project(
        tmp_path,
        """
        Poll:
          Type: AWS::Serverless::Function
          Properties: {CodeUri: functions/poll, Handler: app.handler}
        PollWorker:
          Type: AWS::Serverless::Function
          Properties: {CodeUri: functions/poll_worker, Handler: app.handler}
        """,
        files={"functions/poll/app.py": HANDLER, "functions/poll_worker/app.py": HANDLER},
    )
    loaded = load_template(template)
    # Then each event file name maps to the function whose folder it names
    found = {
        name: spec.logical_id if (spec := loaded.function_for_event(Path(f"events/{name}.json"))) else None
        for name in ("poll_worker_batch", "poll_now", "pollster_x", "worker_batch")
    }
    assert found == {
        "poll_worker_batch": "PollWorker",
        "poll_now": "Poll",
        "pollster_x": None,
        "worker_batch": None,
    }
