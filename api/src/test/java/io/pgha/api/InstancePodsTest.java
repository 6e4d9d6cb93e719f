package io.pgha.api;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InstancePodsTest {
    private static PodBuilder pod(String ip, String ready) {
        return new PodBuilder().withNewMetadata().withName("pg-1").endMetadata()
                .withNewSpec()
                    .addNewContainer().withName("exporter").addNewPort().withName("metrics").withContainerPort(9187).endPort().endContainer()
                    .addNewContainer().withName(ClusterNames.INSTANCE_CONTAINER)
                        .addNewPort().withName(ClusterNames.INSTANCE_PORT_NAME).withContainerPort(5432).endPort().endContainer()
                .endSpec()
                .withNewStatus().withPodIP(ip).addNewCondition().withType("Ready").withStatus(ready).endCondition().endStatus();
    }

    @Test
    void addressIsThePodIpAndTheNamedPort() {
        assertEquals(Optional.of(new InstancePods.Address("10.0.0.7", 5432)), InstancePods.address(pod("10.0.0.7", "True").build()));
    }

    @Test
    void noAddressWithoutAnIpOrWithoutTheNamedPort() {
        assertEquals(Optional.empty(), InstancePods.address(pod(null, "True").build()));
        assertEquals(Optional.empty(), InstancePods.address(pod("", "True").build()));
        Pod unnamed = pod("10.0.0.7", "True").editSpec().editLastContainer().editFirstPort().withName(null).endPort()
                .endContainer().endSpec().build();
        assertEquals(Optional.empty(), InstancePods.address(unnamed));
        assertEquals(Optional.empty(), InstancePods.address(new PodBuilder().withNewMetadata().endMetadata().build()));
    }

    @Test
    void readyOnlyWithTheReadyConditionTrueAndNotBeingDeleted() {
        assertTrue(InstancePods.ready(pod("10.0.0.7", "True").build()));
        assertFalse(InstancePods.ready(pod("10.0.0.7", "False").build()));
        assertFalse(InstancePods.ready(pod("10.0.0.7", "True").editMetadata().withDeletionTimestamp("2026-11-25T21:00:00Z")
                .endMetadata().build()));
        assertFalse(InstancePods.ready(new PodBuilder().withNewMetadata().endMetadata().build()));
    }
}
