package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.PrimaryIsolation;
import io.pgha.api.SecretData;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.ReplicationSpec;
import io.pgha.api.v1.cluster.ResourcesSpec;
import io.pgha.api.v1.cluster.RouterSpec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every desired-object builder, without an API server. */
class BuildersTest {
    private final PostgresCluster cluster = Clusters.example("db");

    @Test
    void secretsHaveTheDerivedNamesTheRolesAndDistinctRandomPasswords() {
        List<Secret> all = ClusterSecrets.desired(cluster, new Random(1));
        assertEquals(List.of("pg-superuser", "pg-replication", "pg-app", "pg-router-auth", "pg-wal-push"),
                all.stream().map(s -> s.getMetadata().getName()).toList());
        List<Secret> secrets = all.subList(0, 4);
        assertEquals(List.of(ClusterNames.SUPERUSER, ClusterNames.REPLICATION_USER, "app", ClusterNames.ROUTER_AUTH_USER),
                secrets.stream().map(s -> SecretData.value(s, SecretData.USERNAME)).toList());
        assertEquals("app", SecretData.value(secrets.get(2), ClusterSecrets.DATABASE));
        Set<String> passwords = secrets.stream().map(s -> SecretData.value(s, SecretData.PASSWORD)).collect(Collectors.toSet());
        assertEquals(4, passwords.size());
        passwords.forEach(p -> assertEquals(ClusterSecrets.PASSWORD_LENGTH, p.length()));
        // a second call draws new passwords: only createIfAbsent keeps the first ones
        assertNotEquals(passwords, ClusterSecrets.desired(cluster, new Random(2)).subList(0, 4).stream()
                .map(s -> SecretData.value(s, SecretData.PASSWORD)).collect(Collectors.toSet()));
        all.forEach(s -> assertOwnedAndLabelled(s.getMetadata()));
        // the WAL push token: one random value under its key, like no password
        Secret token = all.get(4);
        assertEquals(Set.of(ClusterNames.WAL_PUSH_TOKEN_KEY), token.getData().keySet());
        String value = SecretData.value(token, ClusterNames.WAL_PUSH_TOKEN_KEY);
        assertEquals(ClusterSecrets.PASSWORD_LENGTH, value.length());
        assertFalse(passwords.contains(value));
        assertNotEquals(value, SecretData.value(ClusterSecrets.desired(cluster, new Random(2)).get(4), ClusterNames.WAL_PUSH_TOKEN_KEY));
    }

    @Test
    void configMapCarriesTheSharedConfigurationTheHbaAndTheScript() {
        cluster.getSpec().replication.synchronous = ReplicationSpec.Synchronous.QUORUM;
        ConfigMap cm = ClusterConfigMap.desired(cluster, List.of("pg-1", "pg-2", "pg-3"), "pg-1", new PghaServices("pgha-system", true));
        assertEquals(ClusterNames.configMap("pg"), cm.getMetadata().getName());
        String conf = cm.getData().get(ClusterConfigMap.POSTGRESQL_CONF);
        assertTrue(conf.contains("max_connections = '200'"), conf);
        assertTrue(conf.contains("wal_log_hints = 'on'"), conf);
        assertTrue(conf.contains("synchronous_standby_names = 'ANY 1 (\"pg-1\", \"pg-2\", \"pg-3\")'"), conf);
        String hba = cm.getData().get(ClusterConfigMap.PG_HBA_CONF);
        // spec.network.allowedCidrs, by default the private ranges, never 0.0.0.0/0
        // hostssl only: a connection without TLS from another pod matches no line
        assertTrue(hba.contains("hostssl replication  streaming_replica  10.0.0.0/8  scram-sha-256"), hba);
        assertTrue(hba.contains("hostssl all          all  fc00::/7  scram-sha-256"), hba);
        assertTrue(hba.lines().noneMatch(l -> l.startsWith("host ")), hba);
        assertTrue(conf.contains("ssl = 'on'"), conf);
        assertFalse(hba.contains("0.0.0.0/0") || hba.contains("::/0"), hba);
        cluster.getSpec().network.allowedCidrs = List.of("10.244.0.0/16");
        String narrowed = ClusterConfigMap.desired(cluster, List.of("pg-1"), null, new PghaServices("pgha-system", true)).getData().get(ClusterConfigMap.PG_HBA_CONF);
        assertEquals(2, narrowed.lines().filter(l -> l.startsWith("host")).count(), narrowed);
        assertTrue(narrowed.lines().filter(l -> l.startsWith("host")).allMatch(l -> l.contains(" 10.244.0.0/16 ")), narrowed);
        assertTrue(hba.lines().filter(l -> !l.startsWith("#")).allMatch(l -> l.endsWith("scram-sha-256")), hba);
        assertTrue(cm.getData().get(ClusterConfigMap.BOOTSTRAP_SCRIPT).startsWith("#!/bin/bash"));
        assertEquals(io.pgha.api.RouterAuth.setupSql(ClusterNames.ROUTER_AUTH_USER), cm.getData().get(ClusterConfigMap.ROUTER_AUTH_SQL));
        assertEquals("pg-1", cm.getData().get(ClusterConfigMap.FIRST_PRIMARY));
        assertEquals("", ClusterConfigMap.desired(cluster, List.of("pg-1"), null, new PghaServices("pgha-system", true)).getData().get(ClusterConfigMap.FIRST_PRIMARY));
        assertOwnedAndLabelled(cm.getMetadata());
    }

    @Test
    void withSpecBackupArchiveCommandPushesToTheBackupServiceWithTheScriptInTheConfigMap() {
        cluster.getSpec().backup = null;
        ConfigMap without = ClusterConfigMap.desired(cluster, List.of("pg-1"), "pg-1", new PghaServices("pgha-system", true));
        assertTrue(without.getData().get(ClusterConfigMap.POSTGRESQL_CONF).contains("archive_command = '/bin/true'"));
        assertFalse(without.getData().containsKey(ClusterConfigMap.WAL_PUSH_SCRIPT));

        cluster.getSpec().backup = new io.pgha.api.v1.cluster.BackupSpec();
        ConfigMap with = ClusterConfigMap.desired(cluster, List.of("pg-1"), "pg-1", new PghaServices("pgha-system", true));
        // HTTPS to the backup Service, verified against the backup CA in the secrets mount
        assertTrue(with.getData().get(ClusterConfigMap.POSTGRESQL_CONF).contains("archive_command = 'timeout 60 bash "
                + "/etc/pgha/config/wal-push.sh %p https://pgha-backup.pgha-system.svc:443/wal/pg/%f /etc/pgha/secrets/wal-push-token "
                + "/etc/pgha/secrets/backup-ca.crt'"), with.getData().get(ClusterConfigMap.POSTGRESQL_CONF));
        // the script with the HTTP and TLS client in front of it, self-contained
        String script = with.getData().get(ClusterConfigMap.WAL_PUSH_SCRIPT);
        assertTrue(script.startsWith("#!/bin/bash\n# http-client.sh"), script);
        assertTrue(script.indexOf("http_connect() {") < script.lastIndexOf("| http_connect |"), script);
        // the knative overlay's plain HTTP to Knative's proxy
        ConfigMap knative = ClusterConfigMap.desired(cluster, List.of("pg-1"), "pg-1", new PghaServices("pgha-system", false));
        assertTrue(knative.getData().get(ClusterConfigMap.POSTGRESQL_CONF).contains(
                "%p http://pgha-backup.pgha-system.svc:80/wal/pg/%f /etc/pgha/secrets/wal-push-token"));
    }

    @Test
    void instancePodRunsTheStockImageWithItsVolumeProbesResourcesAndAntiAffinity() {
        cluster.getSpec().resources = new ResourcesSpec();
        cluster.getSpec().resources.requests = amounts("500m", "512Mi");
        cluster.getSpec().resources.limits = amounts("2", "1Gi");
        Pod pod = InstancePod.desired(cluster, 2, Labels.ROLE_STANDBY);

        assertEquals("pg-2", pod.getMetadata().getName());
        assertEquals("db", pod.getMetadata().getNamespace());
        Map<String, String> labels = pod.getMetadata().getLabels();
        assertEquals("pg", labels.get(Labels.CLUSTER));
        assertEquals("pg-2", labels.get(Labels.INSTANCE));
        assertEquals(Labels.ROLE_STANDBY, labels.get(Labels.ROLE));
        assertEquals(Labels.COMPONENT_INSTANCE, labels.get(Labels.COMPONENT));
        assertOwnedAndLabelled(pod.getMetadata());

        Container c = pod.getSpec().getContainers().get(0);
        assertEquals("postgres:15", c.getImage());
        assertEquals(List.of("/bin/bash", "/etc/pgha/config/bootstrap.sh"), c.getCommand());
        assertEquals(new Quantity("500m"), c.getResources().getRequests().get("cpu"));
        assertEquals(new Quantity("1Gi"), c.getResources().getLimits().get("memory"));
        assertEquals(List.of("/bin/bash", "/etc/pgha/config/bootstrap.sh", "ready"), c.getReadinessProbe().getExec().getCommand());
        assertEquals(List.of("/bin/bash", "/etc/pgha/config/bootstrap.sh", "live"), c.getLivenessProbe().getExec().getCommand());
        assertTrue(c.getStartupProbe().getFailureThreshold() * c.getStartupProbe().getPeriodSeconds() >= 3600,
                "a long clone must not be killed by liveness");
        Map<String, String> env = c.getEnv().stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
        assertEquals("pg-2", env.get("PGHA_INSTANCE"));
        assertEquals("pg-rw", env.get("PGHA_PRIMARY_HOST"));
        assertEquals(InstancePod.PGDATA, env.get("PGDATA"));
        // the isolation check runs with the numbers PrimaryIsolation's bound is computed from
        assertEquals(Integer.toString(PrimaryIsolation.ISOLATION_SECONDS), env.get("PGHA_ISOLATION_SECONDS"));
        assertEquals(Integer.toString(PrimaryIsolation.REQUEST_TIMEOUT_SECONDS), env.get("PGHA_API_TIMEOUT_SECONDS"));
        assertEquals(Integer.toString(PrimaryIsolation.STOP_TIMEOUT_SECONDS), env.get("PGHA_STOP_SECONDS"));
        assertEquals(PrimaryIsolation.PROBE_PERIOD_SECONDS, c.getLivenessProbe().getPeriodSeconds());
        assertEquals(PrimaryIsolation.PROBE_TIMEOUT_SECONDS, c.getLivenessProbe().getTimeoutSeconds());
        assertEquals(PrimaryIsolation.PROBE_FAILURE_THRESHOLD, c.getLivenessProbe().getFailureThreshold());
        // the token it proves API access with, which may read the instance pods and nothing else
        assertEquals("pg-instance", pod.getSpec().getServiceAccountName());
        assertTrue(pod.getSpec().getAutomountServiceAccountToken());
        assertEquals(5432, c.getPorts().get(0).getContainerPort());

        Map<String, Volume> volumes = pod.getSpec().getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
        assertEquals("pg-2", volumes.get("data").getPersistentVolumeClaim().getClaimName());
        assertEquals("pg-config", volumes.get("config").getConfigMap().getName());
        assertEquals(Set.of("pg-superuser", "pg-replication", "pg-app", "pg-router-auth", "pg-wal-push", "pg-ca-cert"),
                volumes.get("secrets").getProjected().getSources().stream().map(s -> s.getSecret().getName()).collect(Collectors.toSet()));
        // the backup service's CA, at the path archive_command names: wal-push.sh verifies the service against it
        var backupCa = volumes.get("secrets").getProjected().getSources().stream().map(s -> s.getSecret())
                .filter(s -> s.getName().equals("pg-ca-cert")).findFirst().orElseThrow();
        assertEquals(List.of(InstanceCertificates.BACKUP_CA_CERT), backupCa.getItems().stream().map(i -> i.getKey()).toList());
        assertEquals(InstancePod.SECRETS_MOUNT + "/" + backupCa.getItems().get(0).getPath(), InstancePod.BACKUP_CA_FILE);
        // the WAL push token, at the path archive_command names, in the read-only secrets mount (kubelet keeps it current)
        var token = volumes.get("secrets").getProjected().getSources().stream().map(s -> s.getSecret())
                .filter(s -> s.getName().equals("pg-wal-push")).findFirst().orElseThrow();
        assertEquals(1, token.getItems().size());
        assertEquals(ClusterNames.WAL_PUSH_TOKEN_KEY, token.getItems().get(0).getKey());
        assertEquals(InstancePod.WAL_PUSH_TOKEN_FILE, InstancePod.SECRETS_MOUNT + "/" + token.getItems().get(0).getPath());
        assertEquals(0400, volumes.get("secrets").getProjected().getDefaultMode());
        var secretsMount = c.getVolumeMounts().stream().filter(m -> m.getName().equals("secrets")).findFirst().orElseThrow();
        assertEquals(InstancePod.SECRETS_MOUNT, secretsMount.getMountPath());
        assertTrue(secretsMount.getReadOnly());
        assertEquals(null, secretsMount.getSubPath(), "a subPath mount would never see a rotated token");
        assertEquals("metadata.labels", volumes.get("podinfo").getDownwardAPI().getItems().get(0).getFieldRef().getFieldPath());
        assertEquals(999L, pod.getSpec().getSecurityContext().getRunAsUser());

        var anti = pod.getSpec().getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution().get(0);
        assertEquals("kubernetes.io/hostname", anti.getPodAffinityTerm().getTopologyKey());
        assertEquals(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE),
                anti.getPodAffinityTerm().getLabelSelector().getMatchLabels());
    }

    @Test
    void instancePodWithoutResourcesRequestsNothingAndTheRoleChangesOnlyTheLabel() {
        Pod standby = InstancePod.desired(cluster, 1, Labels.ROLE_STANDBY);
        Pod primary = InstancePod.desired(cluster, 1, Labels.ROLE_PRIMARY);
        assertTrue(standby.getSpec().getContainers().get(0).getResources().getRequests() == null
                || standby.getSpec().getContainers().get(0).getResources().getRequests().isEmpty());
        assertEquals(standby.getSpec(), primary.getSpec(), "a role change must not force a new pod");
        assertEquals(Labels.ROLE_PRIMARY, primary.getMetadata().getLabels().get(Labels.ROLE));
    }

    @Test
    void volumeIsKeptWithTheClusterUnlessTheSpecSaysOtherwise() {
        PersistentVolumeClaim kept = InstancePvc.desired(cluster, "pg-3");
        assertEquals("pg-3", kept.getMetadata().getName());
        assertEquals(new Quantity("1Gi"), kept.getSpec().getResources().getRequests().get("storage"));
        assertEquals(List.of("ReadWriteOnce"), kept.getSpec().getAccessModes());
        assertTrue(kept.getMetadata().getOwnerReferences() == null || kept.getMetadata().getOwnerReferences().isEmpty());
        assertNull(kept.getSpec().getStorageClassName());

        cluster.getSpec().storage.deleteWithCluster = true;
        cluster.getSpec().storage.storageClass = "fast";
        PersistentVolumeClaim deleted = InstancePvc.desired(cluster, "pg-3");
        assertEquals("uid-pg", deleted.getMetadata().getOwnerReferences().get(0).getUid());
        assertEquals("fast", deleted.getSpec().getStorageClassName());
    }

    @Test
    void disruptionBudgetLetsOneInstanceGoAtATime() {
        PodDisruptionBudget pdb = InstanceDisruptionBudget.desired(cluster);
        assertEquals("pg-pdb", pdb.getMetadata().getName());
        assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntVal());
        assertEquals(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE), pdb.getSpec().getSelector().getMatchLabels());
        assertOwnedAndLabelled(pdb.getMetadata());
    }

    @Test
    void servicesSelectThePrimaryTheStandbysAndTheRouter() {
        Service rw = ClusterServices.readWrite(cluster);
        Service ro = ClusterServices.readOnly(cluster);
        Service router = ClusterServices.router(cluster);
        assertEquals(List.of("pg-rw", "pg-ro", "pg-router"), ClusterServices.desired(cluster).stream().map(s -> s.getMetadata().getName()).toList());
        assertEquals(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE, Labels.ROLE, "primary"), rw.getSpec().getSelector());
        assertEquals(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE, Labels.ROLE, "standby"), ro.getSpec().getSelector());
        assertEquals(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_ROUTER), router.getSpec().getSelector());
        for (Service s : List.of(rw, ro, router)) {
            assertEquals(5432, s.getSpec().getPorts().get(0).getPort());
            assertEquals("postgres", s.getSpec().getPorts().get(0).getTargetPort().getStrVal());
            assertOwnedAndLabelled(s.getMetadata());
        }
        // the pods these services select carry exactly these labels
        Map<String, String> primaryLabels = InstancePod.labels(cluster, "pg-1", Labels.ROLE_PRIMARY);
        assertTrue(primaryLabels.entrySet().containsAll(rw.getSpec().getSelector().entrySet()));
        assertFalse(primaryLabels.entrySet().containsAll(ro.getSpec().getSelector().entrySet()));
    }

    @Test
    void routerDeploymentTakesReplicasFromTheSpecAndFollowsTheClusterForEverythingElse() {
        cluster.getSpec().router.replicas = 3;
        Deployment d = RouterDeployment.desired(cluster, "registry.example/pgha/router:1");
        assertEquals("pg-router", d.getMetadata().getName());
        assertEquals(3, d.getSpec().getReplicas());
        assertEquals(d.getSpec().getSelector().getMatchLabels(), Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_ROUTER));
        assertTrue(d.getSpec().getTemplate().getMetadata().getLabels().entrySet()
                .containsAll(ClusterServices.router(cluster).getSpec().getSelector().entrySet()));
        Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals("registry.example/pgha/router:1", c.getImage());
        Map<String, EnvVar> env = c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
        assertEquals("kubernetes", env.get("PGHA_ROUTER_TOPOLOGY_SOURCE").getValue());
        assertEquals("pg", env.get("PGHA_CLUSTER").getValue());
        assertEquals("metadata.namespace", env.get("PGHA_NAMESPACE").getValueFrom().getFieldRef().getFieldPath());
        assertEquals("pg-router-auth", env.get("PGHA_ROUTER_AUTH_PASSWORD").getValueFrom().getSecretKeyRef().getName());
        assertEquals("0.0.0.0", env.get("PGHA_ROUTER_HOST").getValue(), "reachable through its service, not loopback only");
        assertEquals("5432", env.get("PGHA_ROUTER_PORT").getValue());
        assertEquals("5433", env.get("PGHA_ROUTER_RW_PORT").getValue());
        // no servers (the -rw/-ro services would hide which server answers) and no spec.router settings: read live
        assertEquals(Set.of("PGHA_CLUSTER", "PGHA_NAMESPACE", "PGHA_HTTP_HOST", "PGHA_HTTP_PORT", "PGHA_ROUTER_HOST", "PGHA_ROUTER_PORT",
                "PGHA_ROUTER_RW_PORT", "PGHA_ROUTER_TOPOLOGY_SOURCE", "PGHA_ROUTER_AUTH_USER", "PGHA_ROUTER_AUTH_PASSWORD",
                "PGHA_ROUTER_SERVER_CA_FILE"), env.keySet());
        assertEquals("/q/health/ready", c.getReadinessProbe().getHttpGet().getPath());
        // liveness waits for the start: the kustomize base's services get five minutes, and so does the router
        assertEquals("/q/health/started", c.getStartupProbe().getHttpGet().getPath());
        assertTrue(c.getStartupProbe().getPeriodSeconds() * c.getStartupProbe().getFailureThreshold() >= 300);
        assertEquals("pg-router", d.getSpec().getTemplate().getSpec().getServiceAccountName());
        assertOwnedAndLabelled(d.getMetadata());
    }

    @Test
    void routerSpecChangesOtherThanReplicasLeaveTheRouterDeploymentAsItIs() {
        Deployment before = RouterDeployment.desired(cluster, "registry.example/pgha/router:1");
        RouterSpec r = cluster.getSpec().router;
        r.poolMode = RouterSpec.PoolMode.SESSION;
        r.poolSize = 7;
        r.maxClientConnections = 50;
        r.readPolicy = RouterSpec.ReadPolicy.PRIMARY;
        r.maxReplicaLagBytes = 1;
        r.readYourWrites = false;
        assertEquals(Applier.hash(before), Applier.hash(RouterDeployment.desired(cluster, "registry.example/pgha/router:1")));
        r.replicas = 2;
        assertNotEquals(Applier.hash(before), Applier.hash(RouterDeployment.desired(cluster, "registry.example/pgha/router:1")));
    }

    @Test
    void routerMayOnlyReadItsOwnClusterAndThePodsOfItsNamespace() {
        Role role = RouterDeployment.role(cluster);
        assertEquals(2, role.getRules().size());
        var clusters = role.getRules().get(0);
        assertEquals(List.of("pgha.io"), clusters.getApiGroups());
        assertEquals(List.of("postgresclusters"), clusters.getResources());
        assertEquals(List.of("pg"), clusters.getResourceNames());
        assertEquals(List.of("get", "list", "watch"), clusters.getVerbs());
        var pods = role.getRules().get(1);
        assertEquals(List.of(""), pods.getApiGroups());
        assertEquals(List.of("pods"), pods.getResources());
        assertEquals(List.of("get", "list", "watch"), pods.getVerbs());
        assertEquals("db", role.getMetadata().getNamespace(), "a Role, not a ClusterRole: this namespace only");
        assertEquals("pg-router", RouterDeployment.roleBinding(cluster).getSubjects().get(0).getName());
        assertEquals("db", RouterDeployment.roleBinding(cluster).getSubjects().get(0).getNamespace());
    }

    private static ResourcesSpec.Amounts amounts(String cpu, String memory) {
        ResourcesSpec.Amounts a = new ResourcesSpec.Amounts();
        a.cpu = cpu;
        a.memory = memory;
        return a;
    }

    @Test
    void theBackupScheduleCronJobCallsTheServiceAtTheClustersSlotsWithTheTokenFromItsSecret() {
        cluster.getSpec().backup = new io.pgha.api.v1.cluster.BackupSpec();
        cluster.getSpec().backup.schedule = "15 3 * * 1-7";
        var cronJob = BackupScheduleCronJob.desired(cluster, new PghaServices("pgha-system", true));
        assertEquals("pg-schedule", cronJob.getMetadata().getName());
        assertOwnedAndLabelled(cronJob.getMetadata());
        var spec = cronJob.getSpec();
        assertEquals("15 3 * * 1-6,0", spec.getSchedule(), "Kubernetes' cron takes day of week 0-6 only");
        assertEquals("Etc/UTC", spec.getTimeZone());
        assertEquals("Forbid", spec.getConcurrencyPolicy());
        assertEquals(0, spec.getJobTemplate().getSpec().getBackoffLimit(), "a retry would hide a failed backup");
        var pod = spec.getJobTemplate().getSpec().getTemplate().getSpec();
        assertEquals("Never", pod.getRestartPolicy());
        assertFalse(pod.getAutomountServiceAccountToken(), "the job never talks to the API server");
        Container c = pod.getContainers().get(0);
        assertEquals("postgres:15", c.getImage(), "the cluster's own image: bash with /dev/tcp, nothing new to pull");
        // bash -c SCRIPT $0 URL TOKEN_FILE: the token file's path is on the command line, never the token
        assertEquals(List.of("bash", "-c"), c.getCommand().subList(0, 2));
        assertTrue(c.getCommand().get(2).startsWith("#!/bin/bash"));
        assertEquals(List.of("backup-trigger", "https://pgha-backup.pgha-system.svc:443/schedules/db/pg", "/etc/pgha/secrets/token",
                "/etc/pgha/backup-ca/backup-ca.crt"), c.getCommand().subList(3, 7));
        // the backup service's CA from the cluster's CA certificate Secret, the file the trigger verifies the service against
        Volume ca = pod.getVolumes().stream().filter(v -> v.getName().equals("backup-ca")).findFirst().orElseThrow();
        assertEquals("pg-ca-cert", ca.getSecret().getSecretName());
        assertEquals(InstanceCertificates.BACKUP_CA_CERT, ca.getSecret().getItems().get(0).getKey());
        assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getName().equals("backup-ca") && m.getReadOnly()
                && "/etc/pgha/backup-ca/backup-ca.crt".equals(m.getMountPath() + "/" + ca.getSecret().getItems().get(0).getPath())));
        // the knative overlay (the CronJobs' home): plain HTTP to Knative's proxy
        assertEquals("http://pgha-backup.pgha-system.svc:80/schedules/db/pg",
                BackupScheduleCronJob.desired(cluster, new PghaServices("pgha-system", false)).getSpec().getJobTemplate().getSpec()
                        .getTemplate().getSpec().getContainers().get(0).getCommand().get(4));
        assertTrue(c.getEnv() == null || c.getEnv().isEmpty(), "no token in the environment either: " + c.getEnv());
        var mount = c.getVolumeMounts().get(0);
        assertEquals("/etc/pgha/secrets", mount.getMountPath());
        assertTrue(mount.getReadOnly());
        Volume token = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
        assertEquals("pg-wal-push", token.getSecret().getSecretName());
        assertEquals(ClusterNames.WAL_PUSH_TOKEN_KEY, token.getSecret().getItems().get(0).getKey());
        assertEquals(0400, token.getSecret().getDefaultMode());
        assertEquals(InstancePod.POSTGRES_UID, pod.getSecurityContext().getRunAsUser());
        assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
    }

    @Test
    void theVerifyCronJobIsTheSameJobCallingTheDrillTriggerAtTheDrillsSlots() {
        cluster.getSpec().backup = new io.pgha.api.v1.cluster.BackupSpec();
        cluster.getSpec().backup.verify = "30 4 * * 7";
        // as the knative overlay, where the CronJobs run, calls the service: plain HTTP to Knative's proxy
        var services = new PghaServices("pgha-system", false);
        var verify = BackupScheduleCronJob.desired(cluster, services, BackupScheduleCronJob.Trigger.VERIFY);
        assertEquals("pg-verify", verify.getMetadata().getName());
        assertOwnedAndLabelled(verify.getMetadata());
        assertEquals("30 4 * * 0", verify.getSpec().getSchedule());
        Container c = verify.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals(List.of("backup-trigger", "http://pgha-backup.pgha-system.svc:80/drills/db/pg", "/etc/pgha/secrets/token",
                "/etc/pgha/backup-ca/backup-ca.crt"), c.getCommand().subList(3, 7));
        // everything but the name, the slots and the path is the schedule's job: one pod, one script, one token mount
        var schedule = BackupScheduleCronJob.desired(cluster, services);
        assertEquals(schedule.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getVolumes(),
                verify.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getVolumes());
        assertEquals(schedule.getSpec().getConcurrencyPolicy(), verify.getSpec().getConcurrencyPolicy());

        var cronjob = java.util.Optional.of("cronjob");
        assertEquals(BackupScheduleCronJob.Step.APPLY, BackupScheduleCronJob.step(cronjob, cluster, BackupScheduleCronJob.Trigger.VERIFY));
        assertEquals(BackupScheduleCronJob.Step.LEAVE,
                BackupScheduleCronJob.step(java.util.Optional.empty(), cluster, BackupScheduleCronJob.Trigger.VERIFY));
        cluster.getSpec().backup.verify = null;
        assertEquals(BackupScheduleCronJob.Step.DELETE, BackupScheduleCronJob.step(cronjob, cluster, BackupScheduleCronJob.Trigger.VERIFY),
                "no drills: no CronJob for them");
        assertEquals(BackupScheduleCronJob.Step.APPLY, BackupScheduleCronJob.step(cronjob, cluster, BackupScheduleCronJob.Trigger.SCHEDULE),
                "while the schedule's stays");
    }

    @Test
    void theCronJobIsTheCronjobModesAloneAndGoesWithTheSchedule() {
        cluster.getSpec().backup = new io.pgha.api.v1.cluster.BackupSpec();
        assertEquals(BackupScheduleCronJob.Step.LEAVE, BackupScheduleCronJob.step(java.util.Optional.empty(), cluster),
                "without the knative overlay's PGHA_BACKUP_TRIGGER the provisioner never touches CronJobs");
        assertEquals(BackupScheduleCronJob.Step.LEAVE, BackupScheduleCronJob.step(java.util.Optional.of(""), cluster));
        assertEquals(BackupScheduleCronJob.Step.APPLY, BackupScheduleCronJob.step(java.util.Optional.of("cronjob"), cluster));
        cluster.getSpec().backup = null;
        assertEquals(BackupScheduleCronJob.Step.DELETE, BackupScheduleCronJob.step(java.util.Optional.of("cronjob"), cluster));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BackupScheduleCronJob.step(java.util.Optional.of("pingsource"), cluster));
        assertEquals("PGHA_BACKUP_TRIGGER: unknown value 'pingsource'; the only one is 'cronjob' (the knative overlay's), or leave it unset",
                e.getMessage());
        assertEquals("0 2 * * 0,1-6,0", BackupScheduleCronJob.forKubernetes("0 2 * * 0,1-7"));
        assertEquals("*/15 * * * *", BackupScheduleCronJob.forKubernetes("*/15 * * * *"));
    }

    private static void assertOwnedAndLabelled(io.fabric8.kubernetes.api.model.ObjectMeta meta) {
        assertEquals("db", meta.getNamespace());
        assertEquals("pg", meta.getLabels().get(Labels.CLUSTER));
        assertEquals(Labels.MANAGED_BY_VALUE, meta.getLabels().get(Labels.MANAGED_BY));
        var owner = meta.getOwnerReferences().get(0);
        assertEquals("PostgresCluster", owner.getKind());
        assertEquals("pgha.io/v1", owner.getApiVersion());
        assertEquals("uid-pg", owner.getUid());
        assertTrue(owner.getController());
    }

    @Test
    void instancePodsMayGetTheClustersInstancePodsByNameAndNothingElse() {
        var role = InstanceAccess.role(cluster, List.of("pg-1", "pg-2", "pg-4"));
        assertEquals("pg-instance", role.getMetadata().getName());
        assertEquals(1, role.getRules().size());
        var rule = role.getRules().get(0);
        assertEquals(List.of(""), rule.getApiGroups());
        assertEquals(List.of("pods"), rule.getResources());
        assertEquals(List.of("get"), rule.getVerbs());
        assertEquals(List.of("pg-1", "pg-2", "pg-4"), rule.getResourceNames());
        var binding = InstanceAccess.roleBinding(cluster);
        assertEquals("pg-instance", binding.getRoleRef().getName());
        assertEquals("pg-instance", binding.getSubjects().get(0).getName());
        assertEquals("db", binding.getSubjects().get(0).getNamespace());
        assertOwnedAndLabelled(InstanceAccess.serviceAccount(cluster).getMetadata());
        assertOwnedAndLabelled(role.getMetadata());
    }

}
