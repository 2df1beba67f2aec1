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

    /** {@code ip -d}: a device with a link kind gets its details on a line of its own, as iproute2 prints them. */
    @Test
    void detailsOfAVethPairAndOfLoopback() {
        FakeCore.vethPair(shell.init(), "veth0", "veth1");
        String[] veth = shell.ip("-d link show veth0").split("\n");
        org.junit.jupiter.api.Assertions.assertTrue(veth[1].endsWith(" promiscuity 0  allmulti 0 minmtu " + shell.init().device("veth0").minMtu()
                + " maxmtu " + shell.init().device("veth0").maxMtu() + " "), veth[1]);
        org.junit.jupiter.api.Assertions.assertTrue(veth[2].startsWith("    veth numtxqueues 1 numrxqueues "), veth[2]);
        org.junit.jupiter.api.Assertions.assertTrue(veth[2].endsWith(" gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535"
                + " gro_max_size 65536 "), veth[2]);
        String json = shell.ip("-j -d link show veth0");
        org.junit.jupiter.api.Assertions.assertTrue(json.contains(",\"linkinfo\":{\"info_kind\":\"veth\"},\"num_tx_queues\":1,"), json);
    }
}
