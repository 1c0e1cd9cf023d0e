"""The names outside code relies on; changing them is a breaking change."""
import engine

PUBLIC = {
    "Engine", "EngineConfig", "Clock", "SystemClock", "FrozenClock",
    "DubanError", "NotFound", "DefinitionError", "ValidationError", "ConflictError",
    "PermissionDenied", "ScriptError", "JobError", "Problem",
    "VersionView", "TaskView", "InstanceView", "HistoryEventView", "OrganisationView",
    "PersonView", "ItemView", "NotificationView",
    "CommentView", "AttachmentView", "CopyView", "SignerView", "ExtensionRequestView",
    "SendBackTarget",
    # inbox
    "InboxPage", "InboxRow", "TaskDetailView",
    # instance pages
    "DiagramView", "IncidentView", "InstanceListView", "InstancePageView", "InstanceRow",
    "StartableView", "StartFormView", "TimelineEntry",
}

ENGINE_METHODS = {
    "migrate", "deploy", "deploy_file", "start", "open_tasks", "get_task", "claim", "unclaim",
    "complete", "get_instance", "history", "cancel", "suspend", "resume", "correlate_message",
    "send_signal", "retry", "register_service", "add_organisation", "add_person",
    "grant_role", "verify_audit", "dispose", "fire_due_jobs", "list_jobs", "retry_job",
    "urge", "extend_deadline", "load_calendar", "configure_channel", "notifications",
    "mark_read", "get_item", "items",
    # supervision reports
    "dashboard", "supervised_tasks", "overdue_tasks", "ledger", "export_ledger",
    "import_problem_list", "generate_circular", "list_circulars", "get_circular",
    "circular_trend", "export_circular",
    # supervision pages
    "report_scope", "problem_list_template",
    # people and sign-in
    "set_password", "set_active", "revoke_role", "authenticate", "person", "people",
    "organisations", "roles", "unread_count",
    # approvals
    "transfer", "delegate", "resolve", "add_signer", "sign", "copy_to", "mark_copy_read",
    "add_comment", "add_attachment", "attachment_content", "request_extension",
    "decide_extension", "withdraw_extension_request", "comments", "attachments", "copies",
    "signers", "pending_extension_requests",
    # routing
    "send_back", "send_back_targets", "withdraw", "withdrawable",
    # inbox
    "inbox", "inbox_counts", "task_for", "task_people", "display_names",
    "organisation_names", "process_choices",
    # instance pages
    "instance_for", "instance_page", "instances", "diagram", "timeline", "incidents",
    "retry_instance_job", "startable", "start_form",
}


def test_exported_members():
    assert set(engine.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(engine, name)


def test_engine_methods():
    assert ENGINE_METHODS <= {n for n in dir(engine.Engine) if not n.startswith("_")}


def test_views_have_the_documented_fields():
    fields = set(engine.TaskView.__dataclass_fields__)
    assert {"id", "element_id", "name", "instance_id", "assignee", "candidates",
            "created_at", "due_at", "form"} <= fields
    assert {"state", "data", "process_key", "version", "business_key"} <= set(
        engine.InstanceView.__dataclass_fields__)
    assert {"element_id", "kind", "at", "by"} <= set(engine.HistoryEventView.__dataclass_fields__)
    assert {"process_key", "version", "id"} <= set(engine.VersionView.__dataclass_fields__)
    assert {"owner", "delegation"} <= fields
