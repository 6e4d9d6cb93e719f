package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;

import java.util.Map;

/**
 * How a network plugin reads an ingress NetworkPolicy, for the pods the pod runner runs: which
 * pods it protects, and whether it admits a connection from a source pod to a port. Selectors
 * with matchExpressions and ipBlock peers are not needed by pgha's policies and are refused here
 * rather than guessed.
 */
final class NetworkPolicies {
    private NetworkPolicies() {
    }

    /** Whether {@code policy} applies to {@code pod}: same namespace, pod selector matches. */
    static boolean protects(NetworkPolicy policy, Pod pod) {
        return policy.getMetadata().getNamespace().equals(pod.getMetadata().getNamespace())
                && matches(policy.getSpec().getPodSelector(), pod.getMetadata().getLabels());
    }

    /** Whether {@code policy} admits a TCP connection from {@code source} (in a namespace labelled so) to {@code port}. */
    static boolean admits(NetworkPolicy policy, Pod source, Map<String, String> sourceNamespaceLabels, int port) {
        for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
            if (!rule.getPorts().isEmpty() && rule.getPorts().stream().noneMatch(p -> covers(p, port))) {
                continue;
            }
            if (rule.getFrom().isEmpty() || rule.getFrom().stream().anyMatch(peer -> admits(policy, peer, source, sourceNamespaceLabels))) {
                return true;
            }
        }
        return false;
    }

    private static boolean admits(NetworkPolicy policy, NetworkPolicyPeer peer, Pod source, Map<String, String> namespaceLabels) {
        if (peer.getIpBlock() != null) {
            throw new IllegalArgumentException("ipBlock peers are not evaluated here: " + peer);
        }
        boolean namespace = peer.getNamespaceSelector() == null
                ? policy.getMetadata().getNamespace().equals(source.getMetadata().getNamespace())
                : matches(peer.getNamespaceSelector(), namespaceLabels);
        return namespace && (peer.getPodSelector() == null || matches(peer.getPodSelector(), source.getMetadata().getLabels()));
    }

    private static boolean covers(NetworkPolicyPort p, int port) {
        if (p.getProtocol() != null && !p.getProtocol().equals("TCP")) {
            return false;
        }
        if (p.getPort() == null) {
            return true;
        }
        if (p.getPort().getIntVal() == null) {
            throw new IllegalArgumentException("named ports are not evaluated here: " + p);
        }
        int from = p.getPort().getIntVal();
        int to = p.getEndPort() == null ? from : p.getEndPort();
        return port >= from && port <= to;
    }

    /** An empty selector matches everything; matchLabels must all be present with the same value. */
    static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector.getMatchExpressions() != null && !selector.getMatchExpressions().isEmpty()) {
            throw new IllegalArgumentException("matchExpressions are not evaluated here: " + selector);
        }
        Map<String, String> have = labels == null ? Map.of() : labels;
        return selector.getMatchLabels() == null || selector.getMatchLabels().entrySet().stream()
                .allMatch(e -> e.getValue().equals(have.get(e.getKey())));
    }
}
