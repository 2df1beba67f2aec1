/**
 * Netfilter's hook points ({@code include/linux/netfilter.h}): where a protocol lets packet filters,
 * connection tracking and NAT see its packets, and what they answer; and what iptables and nftables
 * share: the LOG line ({@link org.modnet.api.netfilter.NfLogLine}) and their rules file
 * ({@link org.modnet.api.netfilter.NfRulesFile}), since 1.3; the netdev ingress hook ({@link org.modnet.api.netfilter.NfIngress}) and conntrack zones
 * ({@link org.modnet.api.netfilter.NfCtTemplate}), since 1.5; the queue verdicts REPEAT and STOP
 * ({@link org.modnet.api.netfilter.Verdict}), since 1.6; a connection's status bits ({@link org.modnet.api.netfilter.NfConnMark#status()}), since 1.7.
 */
@Export
@Version("1.7.0")
package org.modnet.api.netfilter;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
