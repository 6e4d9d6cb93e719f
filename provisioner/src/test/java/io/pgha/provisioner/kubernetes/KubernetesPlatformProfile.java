package io.pgha.provisioner.kubernetes;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * The provisioner on the kubernetes platform, against the fabric8 mock API server (no server-side
 * apply there), with the knative overlay's schedule CronJobs on and its plain HTTP to the backup service.
 */
public class KubernetesPlatformProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgha.platform", "kubernetes",
                "quarkus.operator-sdk.enable-ssa", "false",
                "pgha.kubernetes.router-image", "registry.test/pgha/router:test",
                // as the knative overlay runs it: schedules wake the backup service through CronJobs
                "pgha.backup.trigger", BackupScheduleCronJob.MODE,
                // and, as there, plain HTTP to Knative's proxy in front of the backup service
                "pgha.kubernetes.backup-tls", "false",
                // the mock server logs every request at INFO
                "quarkus.log.category.\"io.fabric8.mockwebserver\".level", "WARN");
    }
}
