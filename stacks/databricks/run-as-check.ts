import { DataDatabricksGroup } from "@cdktf/provider-databricks/lib/data-databricks-group";
import { DataDatabricksServicePrincipal } from "@cdktf/provider-databricks/lib/data-databricks-service-principal";
import { DataResource, Fn, Op } from "cdktf";
import { Construct } from "constructs";
import { requireLiteral } from "../common/validation";

/** The workspace's built-in administrators group. */
export const WORKSPACE_ADMINS_GROUP = "admins";

export interface RunAsNotAdminProps {
  /** Application id of the service principal the jobs run as. */
  readonly applicationId: string;
}

/**
 * Stops every plan while the jobs' run-as service principal is a workspace admin, directly or through a nested group.
 * A job runs with its run-as identity's rights, and the deployer (the CI identity) is an admin: a run-as principal
 * that is one too, or that is the deployer itself, gives the notebooks and everyone who can change their inputs the
 * whole workspace. The check reads the workspace while planning (two data sources, no provider-less shortcut), so it
 * holds for the identity as it is, not as the configuration says.
 */
export class RunAsNotAdmin extends Construct {
  constructor(scope: Construct, id: string, props: RunAsNotAdminProps) {
    super(scope, id);
    requireLiteral(
      "RunAsNotAdmin",
      "applicationId",
      props.applicationId,
      (v) => /^[0-9a-f-]{36}$/i.test(v),
      "a service principal application id (UUID)",
    );
    const principal = new DataDatabricksServicePrincipal(this, "run-as", { applicationId: props.applicationId });
    // recursive: members of nested groups count (an admin through a group is an admin).
    const admins = new DataDatabricksGroup(this, "admins", { displayName: WORKSPACE_ADMINS_GROUP, recursive: true });
    new DataResource(this, "check", {
      lifecycle: {
        precondition: [
          {
            condition: Op.not(Fn.contains(admins.servicePrincipals, principal.id)),
            errorMessage: `The jobs' run-as service principal ${props.applicationId} is a member of the workspace group "${WORKSPACE_ADMINS_GROUP}": jobs must run as a dedicated, non-admin service principal (remove it from "${WORKSPACE_ADMINS_GROUP}", or configure another in databricks.runAsServicePrincipal).`,
          },
        ],
      },
    });
  }
}
