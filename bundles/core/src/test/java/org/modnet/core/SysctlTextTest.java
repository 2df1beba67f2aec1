package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.net.StringSysctl;

/** Text sysctls ({@code net.ipv4.tcp_congestion_control}): the owner's check, read-only entries, configuration. */
class SysctlTextTest {
    private static String known(String v) throws NetException {
        if (!v.equals("reno") && !v.equals("vegas")) {
            throw new NetException(Errno.ENOENT);
        }
        return v;
    }

    @Test
    void aWriteGoesThroughTheCheckAndReadsBack() throws NetException {
        SysctlTree t = new SysctlTree();
        StringSysctl s = t.registerString("net.ipv4.tcp_congestion_control", "reno", SysctlTextTest::known);
        t.set("net.ipv4.tcp_congestion_control", " vegas\n");
        assertEquals("vegas", s.get());
        assertEquals("vegas", t.get("net.ipv4.tcp_congestion_control"));
        NetException e = assertThrows(NetException.class, () -> t.set("net.ipv4.tcp_congestion_control", "cubic"));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("vegas", s.get());
        assertEquals("vegas", t.all().get("net.ipv4.tcp_congestion_control"));
    }

    @Test
    void withoutACheckOnlyTheOwnerWrites() throws NetException {
        SysctlTree t = new SysctlTree();
        StringSysctl s = t.registerString("net.ipv4.tcp_available_congestion_control", "reno", null);
        NetException e = assertThrows(NetException.class, () -> t.set("net.ipv4.tcp_available_congestion_control", "x"));
        assertEquals(Errno.EPERM, e.errno());
        s.publish("reno vegas");
        assertEquals("reno vegas", t.get("net.ipv4.tcp_available_congestion_control"));
    }

    @Test
    void registeringTwiceGivesTheFirstHandle() {
        SysctlTree t = new SysctlTree();
        StringSysctl a = t.registerString("net.x", "a", null);
        assertSame(a, t.registerString("net.x", "b", null));
    }

    @Test
    void aConfiguredValueAppliesWhenTheEntryIsRegisteredAndGoesBackToTheDefault() throws NetException {
        SysctlConf conf = new SysctlConf();
        SysctlTree t = new SysctlTree(conf);
        Map<String, String> before = Map.of("net.ipv4.tcp_congestion_control", "vegas");
        conf.values(before);
        t.registerString("net.ipv4.tcp_congestion_control", "reno", SysctlTextTest::known);
        assertEquals("vegas", t.get("net.ipv4.tcp_congestion_control"));
        t.reconfigure(before, Map.of());
        assertEquals("reno", t.get("net.ipv4.tcp_congestion_control"));
    }
}
