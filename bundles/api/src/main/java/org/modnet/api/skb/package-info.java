/**
 * The packet buffer, {@code struct sk_buff}: one {@link org.modnet.api.skb.SkBuff} carries one packet from
 * driver to socket and back, over pooled off-heap memory; layers move offsets, they do not copy.
 */
@Export
@Version("1.5.0")
package org.modnet.api.skb;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
