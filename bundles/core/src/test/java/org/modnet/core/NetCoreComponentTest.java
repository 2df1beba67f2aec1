package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.osgi.framework.BundleContext;

/** The core's component as DS makes it: the hand-over holder's contract reaches the holder whole. */
class NetCoreComponentTest {
    /** A bundle context with no properties set: the component's defaults. */
    private static BundleContext noProperties() {
        return (BundleContext) java.lang.reflect.Proxy.newProxyInstance(NetCoreComponentTest.class.getClassLoader(),
                new Class<?>[] { BundleContext.class }, (proxy, method, args) -> null);
    }

    private static TableState tables(String what) {
        return new TableState("conntrack", 1, List.of(), Map.of("0/conntrack", what));
    }

    @Test
    void aDepositWhoseTablesStillChangeIsTakenAsTheyAreThenNotAsDeposited() {
        NetCoreComponent core = new NetCoreComponent(noProperties(), Map.of());
        try {
            StateHolder holder = core;
            StringBuilder flows = new StringBuilder("a");
            holder.deposit(tables(flows.toString()), () -> tables(flows.toString()));
            flows.append(" b"); // the old version's hooks learnt a flow after its deactivation
            assertEquals("a b", holder.take("conntrack").extra().get("0/conntrack"));
        } finally {
            core.deactivate();
        }
    }
}
