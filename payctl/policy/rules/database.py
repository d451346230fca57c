"""Aurora as the environment file describes it: instance class, backup retention, DR secondary."""

from __future__ import annotations

from collections.abc import Iterable

from payctl.policy.effective import EffectiveTemplate, text
from payctl.policy.model import Context, Rule, Violation, props


class AuroraMatchesEnvironment(Rule):
    id = "PAY018"
    title = "Aurora matches the environment file"
    description = (
        "Aurora instances use database.instanceClass, clusters keep backups for "
        "database.backupRetentionDays, and a global-database secondary runs in the DR region "
        "exactly when database.drSecondary is true (the primary cluster then joins a global "
        "cluster)."
    )
    hint = "Take the values from the DbInstanceClass, DbBackupRetentionDays and DbHasDrSecondary parameters."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        database = context.environment.database
        for logical_id, instance in template.of_type("AWS::RDS::DBInstance").items():
            p = props(instance)
            if "DBInstanceClass" in p and text(p["DBInstanceClass"]) != database.instance_class:
                yield Violation(
                    logical_id,
                    ("Properties", "DBInstanceClass"),
                    f"DBInstanceClass {text(p['DBInstanceClass'])}, the environment file says "
                    f"{database.instance_class}",
                )
        dr_region = context.environment.regions.dr
        for logical_id, cluster in template.of_type("AWS::RDS::DBCluster").items():
            p = props(cluster)
            retention = text(p.get("BackupRetentionPeriod", "1"))
            if retention != str(database.backup_retention_days):
                yield Violation(
                    logical_id,
                    ("Properties", "BackupRetentionPeriod")
                    if "BackupRetentionPeriod" in p
                    else ("Properties",),
                    f"BackupRetentionPeriod {retention}, the environment "
                    f"file says {database.backup_retention_days}",
                )
            joins_global = bool(text(p.get("GlobalClusterIdentifier", "")))
            if template.region == dr_region:
                if not database.dr_secondary:
                    yield Violation(
                        logical_id,
                        (),
                        "an Aurora cluster runs in the DR region, but database.drSecondary is false",
                    )
                elif not joins_global:
                    yield Violation(
                        logical_id, ("Properties",), "the DR cluster does not join the global cluster"
                    )
                continue
            if database.dr_secondary and not joins_global:
                yield Violation(
                    logical_id,
                    ("Properties",),
                    "database.drSecondary is true, but the primary cluster joins no global cluster",
                )
            elif not database.dr_secondary and joins_global:
                yield Violation(
                    logical_id,
                    ("Properties", "GlobalClusterIdentifier"),
                    "joins a global cluster although database.drSecondary is false",
                )
            if (
                database.dr_secondary
                and context.complete
                and not any(
                    text(props(other).get("GlobalClusterIdentifier", ""))
                    for other_template, _, other in context.resources("AWS::RDS::DBCluster")
                    if other_template.region == dr_region
                )
            ):
                yield Violation(
                    logical_id,
                    (),
                    f"database.drSecondary is true, but no Aurora secondary "
                    f"cluster is deployed in {dr_region}",
                )
