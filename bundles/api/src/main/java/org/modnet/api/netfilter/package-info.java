/**
 * Netfilter's hook points ({@code include/linux/netfilter.h}): where a protocol lets packet filters,
 * connection tracking and NAT see its packets, and what they answer.
 */
@Export
@Version("1.3.0")
package org.modnet.api.netfilter;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
