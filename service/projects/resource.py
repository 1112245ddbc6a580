from service.projects.model import Project, ProjectFields
from service.records.resource import Resource

PROJECTS = Resource(
    name="projects",
    singular="project",
    fields_model=ProjectFields,
    record_model=Project,
    example_id="br-sti-action-plan",
)
