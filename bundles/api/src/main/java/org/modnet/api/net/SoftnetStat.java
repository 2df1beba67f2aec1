package org.modnet.api.net;

/**
 * One softirq thread's receive statistics, a line of {@code /proc/net/softnet_stat}.
 *
 * @param processed   frames handed to {@code netif_receive_skb}
 * @param dropped     frames dropped for want of backlog room
 * @param timeSqueeze rounds that ended with work left, because the budget or the time ran out
 * @param polls       NAPI polls made (not in Linux's file; shown by {@code ethtool}-style views)
 */
public record SoftnetStat(int cpu, long processed, long dropped, long timeSqueeze, long polls) {
}
