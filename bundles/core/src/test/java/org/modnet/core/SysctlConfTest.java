package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;

/** Configured sysctls (the org.modnet.sysctl PID a feature carries): every namespace, now and later. */
class SysctlConfTest {
    private final CoreEngine core = TestDevices.manualCore(1);

    /** A layer that registers Linux's ip_forward (default 0) in each namespace, as ipv4 does. */
    private static final PernetOperations FORWARDING = new PernetOperations() {
        @Override
        public void init(NetNamespace ns) {
            ns.sysctl().registerInt("net.ipv4.ip_forward", 0, 0, 1);
            ns.sysctl().alias("net.ipv4.conf.all.forwarding", "net.ipv4.ip_forward");
        }

        @Override
        public void exit(NetNamespace ns) {
            ns.sysctl().unregister("net.ipv4");
        }
    };

    @AfterEach
    void tearDown() {
        core.shutdown();
    }

    @Test
    void aConfiguredValueAppliesToInitNetAndToNamespacesMadeLater() throws NetException {
        core.configureSysctls(Map.of("net.core.somaxconn", "1024"));
        assertEquals("1024", core.initNet().sysctl().get("net.core.somaxconn"));
        NetNamespace later = core.addNamespace("r");
        assertEquals("1024", later.sysctl().get("net.core.somaxconn"));
    }

    @Test
    void anEntryRegisteredAfterTheConfigurationTakesTheConfiguredValue() throws NetException {
        core.configureSysctls(Map.of("net.ipv4.ip_forward", "1"));
        core.addPernet(FORWARDING, 100);
        NetNamespace later = core.addNamespace("r");
        assertEquals("1", core.initNet().sysctl().get("net.ipv4.ip_forward"));
        assertEquals("1", later.sysctl().get("net.ipv4.ip_forward"));
    }

    @Test
    void deletingTheConfigurationPutsLinuxsDefaultsBack() throws NetException {
        core.addPernet(FORWARDING, 100);
        NetNamespace r = core.addNamespace("r");
        core.configureSysctls(Map.of("net.ipv4.ip_forward", "1", "net.core.somaxconn", "1024"));
        assertEquals("1", r.sysctl().get("net.ipv4.ip_forward"));
        core.configureSysctls(Map.of());
        assertEquals("0", r.sysctl().get("net.ipv4.ip_forward"));
        assertEquals("0", core.initNet().sysctl().get("net.ipv4.ip_forward"));
        assertEquals("4096", core.initNet().sysctl().get("net.core.somaxconn"));
    }

    @Test
    void aValueOutOfRangeIsRefusedCountedAndTheDefaultStays() throws NetException {
        core.configureSysctls(Map.of("net.core.somaxconn", "-1"));
        assertEquals("4096", core.initNet().sysctl().get("net.core.somaxconn"));
        assertEquals(1, core.sysctlConf().errors());
    }

    @Test
    void onlyNetPropertiesOfTheConfigurationAreSysctls() {
        Map<String, String> s = SysctlConf.sysctls(Map.of("service.pid", "org.modnet.sysctl", "component.id", 3L,
                "net.ipv4.ip_forward", 1L, "net.ipv4.ip_local_port_range", new Object[] { 1024, 65000 }));
        assertEquals(Map.of("net.ipv4.ip_forward", "1", "net.ipv4.ip_local_port_range", "1024 65000"), s);
    }

    @Test
    void confAllForwardingIsIpForwardUnderAnotherName() throws NetException {
        core.addPernet(FORWARDING, 100);
        core.configureSysctls(Map.of("net.ipv4.conf.all.forwarding", "1"));
        assertEquals("1", core.initNet().sysctl().get("net.ipv4.ip_forward"));
        core.initNet().sysctl().set("net.ipv4.ip_forward", "0");
        assertEquals("0", core.initNet().sysctl().get("net.ipv4.conf.all.forwarding"));
    }
}
