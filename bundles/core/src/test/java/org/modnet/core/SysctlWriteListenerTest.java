package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetException;

/** An entry whose writes set something off ({@code net.ipv4.conf.all.forwarding}'s proc handler). */
class SysctlWriteListenerTest {
    @Test
    void aWriteBySysctlCallsTheListenerWithTheNewValueThroughEitherName() throws NetException {
        SysctlTree t = new SysctlTree();
        List<Integer> heard = new ArrayList<>();
        IntSysctl e = t.registerInt("net.ipv4.ip_forward", 0, 0, 1, heard::add);
        t.alias("net.ipv4.conf.all.forwarding", "net.ipv4.ip_forward");
        t.set("net.ipv4.ip_forward", "1");
        t.set("net.ipv4.conf.all.forwarding", "0");
        assertEquals(List.of(1, 0), heard);
        e.set(1); // the owner's own write is not a sysctl write
        assertEquals(List.of(1, 0), heard);
        assertThrows(NetException.class, () -> t.set("net.ipv4.ip_forward", "2"));
        assertEquals(List.of(1, 0), heard, "a refused write sets nothing off");
    }

    @Test
    void registeringAgainKeepsTheEntryAndMakesTheNewListenerTheOneCalled() throws NetException {
        SysctlTree t = new SysctlTree();
        List<String> heard = new ArrayList<>();
        IntSysctl first = t.registerInt("net.x", 0, 0, 9, v -> heard.add("old " + v));
        t.set("net.x", "3");
        IntSysctl again = t.registerInt("net.x", 0, 0, 9, v -> heard.add("new " + v));
        assertSame(first, again);
        assertEquals(3, again.get(), "a next version finds the value");
        t.set("net.x", "4");
        assertEquals(List.of("old 3", "new 4"), heard);
    }

    @Test
    void aConfiguredValueTakenAsTheEntryRegistersIsHeardAsAWrite() {
        SysctlConf conf = new SysctlConf();
        conf.values(java.util.Map.of("net.ipv4.ip_forward", "1"));
        SysctlTree t = new SysctlTree(conf);
        List<Integer> heard = new ArrayList<>();
        IntSysctl e = t.registerInt("net.ipv4.ip_forward", 0, 0, 1, heard::add);
        assertEquals(1, e.get());
        assertEquals(List.of(1), heard, "sysctl --system at boot: the handler copies it into the devices");
    }
}
