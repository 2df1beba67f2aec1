package org.modnet.api.netfilter;

/**
 * A template connection ({@code nf_conn} with {@code IPS_TEMPLATE}): what {@code -j CT --zone N} in the
 * raw table and nft's {@code ct zone set N} put on a packet conntrack has not seen yet
 * ({@code SkBuff#nfct()}, info {@code IP_CT_NEW}), so that {@code nf_conntrack_in} looks the packet's
 * flow up, and makes it, in zone {@code zone} (0-65535): equal tuples in different zones are different
 * flows. Made once per rule, shared by its packets. @since 1.5
 */
public record NfCtTemplate(int zone) {
}
