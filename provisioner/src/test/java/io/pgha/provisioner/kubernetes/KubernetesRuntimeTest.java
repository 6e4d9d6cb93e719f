package io.pgha.provisioner.kubernetes;

import io.javaoperatorsdk.operator.Operator;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.util.TypeLiteral;
import org.junit.jupiter.api.Test;

import java.lang.annotation.Annotation;
import java.util.Iterator;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** On the local platform the operator is never even created, so nothing reaches for an API server. */
class KubernetesRuntimeTest {
    @Test
    void localPlatformNeverTouchesTheOperator() {
        KubernetesRuntime runtime = new KubernetesRuntime();
        runtime.platform = "local";
        runtime.operator = new Untouchable();
        runtime.onStart(null);
        assertFalse(runtime.active());
        assertTrue(runtime.healthy(), "ready on the local platform");
    }

    @Test
    void kubernetesPlatformIsNotReadyBeforeTheOperatorStarted() {
        KubernetesRuntime runtime = new KubernetesRuntime();
        runtime.platform = "kubernetes";
        runtime.operator = new Untouchable();
        assertTrue(runtime.active());
        assertFalse(runtime.healthy());
    }

    /** Fails the test when anyone asks for the operator. */
    private static final class Untouchable implements Instance<Operator> {
        @Override
        public Operator get() {
            throw new AssertionError("the operator was requested");
        }

        @Override
        public Instance<Operator> select(Annotation... qualifiers) {
            throw new AssertionError("the operator was requested");
        }

        @Override
        public <U extends Operator> Instance<U> select(Class<U> subtype, Annotation... qualifiers) {
            throw new AssertionError("the operator was requested");
        }

        @Override
        public <U extends Operator> Instance<U> select(TypeLiteral<U> subtype, Annotation... qualifiers) {
            throw new AssertionError("the operator was requested");
        }

        @Override
        public boolean isUnsatisfied() {
            return false;
        }

        @Override
        public boolean isAmbiguous() {
            return false;
        }

        @Override
        public void destroy(Operator instance) {
        }

        @Override
        public Handle<Operator> getHandle() {
            throw new AssertionError("the operator was requested");
        }

        @Override
        public Iterable<? extends Handle<Operator>> handles() {
            throw new AssertionError("the operator was requested");
        }

        @Override
        public Iterator<Operator> iterator() {
            throw new AssertionError("the operator was requested");
        }
    }
}
