package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@code ip -j} and {@code ip -j -p}: iproute2's JSON, compact and pretty, byte for byte. */
class IpJsonTest {
    private final TestShell shell = new TestShell();

    @Test
    void addressesOfLoopbackAsCompactJson() {
        assertEquals("[{\"ifindex\":1,\"ifname\":\"lo\",\"flags\":[\"LOOPBACK\",\"UP\",\"LOWER_UP\"],\"mtu\":65536,\"qdisc\":\"noqueue\","
                + "\"operstate\":\"UNKNOWN\",\"group\":\"default\",\"txqlen\":1000,\"link_type\":\"loopback\","
                + "\"address\":\"00:00:00:00:00:00\",\"broadcast\":\"00:00:00:00:00:00\",\"addr_info\":[{\"family\":\"inet\","
                + "\"local\":\"127.0.0.1\",\"prefixlen\":8,\"scope\":\"host\",\"label\":\"lo\",\"valid_life_time\":4294967295,"
                + "\"preferred_life_time\":4294967295}]}]\n", shell.ip("-j addr show lo"));
    }

    /** The layout Linux's {@code ip -j -p addr show lo} prints (its IPv6 entry aside). */
    @Test
    void prettyJsonIndentsMembersAndKeepsArraysOfValuesOnOneLine() {
        assertEquals("""
                [ {
                        "ifindex": 1,
                        "ifname": "lo",
                        "flags": [ "LOOPBACK","UP","LOWER_UP" ],
                        "mtu": 65536,
                        "qdisc": "noqueue",
                        "operstate": "UNKNOWN",
                        "group": "default",
                        "txqlen": 1000,
                        "link_type": "loopback",
                        "address": "00:00:00:00:00:00",
                        "broadcast": "00:00:00:00:00:00",
                        "addr_info": [ {
                                "family": "inet",
                                "local": "127.0.0.1",
                                "prefixlen": 8,
                                "scope": "host",
                                "label": "lo",
                                "valid_life_time": 4294967295,
                                "preferred_life_time": 4294967295
                            } ]
                    } ]
                """, shell.ip("-j -p addr show lo"));
    }

    @Test
    void vethPairInOneNamespaceNamesItsPeerAndBriefKeepsFourFields() {
        FakeCore.vethPair(shell.init(), "veth0", "veth1");
        assertEquals("[{\"link\":\"veth1\",\"ifname\":\"veth0\",\"operstate\":\"DOWN\",\"address\":\"02:00:00:00:00:0a\","
                + "\"flags\":[\"BROADCAST\",\"MULTICAST\",\"M-DOWN\"]}]\n", shell.ip("-j -br link show veth0"));
        assertEquals("[]\n", shell.ip("-j link show up type veth"));
        assertEquals("[ ]\n", shell.ip("-j -p link show up type veth"));
    }
}
