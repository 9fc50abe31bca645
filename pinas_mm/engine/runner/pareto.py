# Copyright (c) pinas_mm contributors. All rights reserved.
"""NSGA-II selection (`Deb et al., 2002 <https://doi.org/10.1109/4235.996017>`_) for objectives to minimise.

Each point is a sequence of objective values; maximise a score by passing it negated.
"""


def dominates(a, b):
    """True if ``a`` is no worse than ``b`` in every objective and better in one."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def non_dominated_sort(points):
    """Indices of ``points`` grouped into fronts: front 0 is the Pareto front, front 1 the front of the rest..."""
    dominated_by = [[j for j in range(len(points)) if dominates(points[i], points[j])] for i in range(len(points))]
    num_dominating = [sum(dominates(q, p) for q in points) for p in points]
    fronts, current = [], [i for i, n in enumerate(num_dominating) if n == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in dominated_by[i]:
                num_dominating[j] -= 1
                if num_dominating[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def crowding_distance(points):
    """Crowding distance of each point within its front: larger is lonelier, the ends of each objective infinite."""
    distance = [0.] * len(points)
    for objective in range(len(points[0]) if points else 0):
        order = sorted(range(len(points)), key=lambda i: points[i][objective])
        low, high = points[order[0]][objective], points[order[-1]][objective]
        distance[order[0]] = distance[order[-1]] = float('inf')
        if high == low:
            continue
        for prev, mid, nxt in zip(order, order[1:], order[2:]):
            distance[mid] += (points[nxt][objective] - points[prev][objective]) / (high - low)
    return distance


def nsga2_select(points, k):
    """Indices of the ``k`` survivors: whole fronts in order, the last one cut by decreasing crowding distance."""
    selected = []
    for front in non_dominated_sort(points):
        if len(selected) + len(front) <= k:
            selected += front
            continue
        distance = crowding_distance([points[i] for i in front])
        ranked = sorted(range(len(front)), key=lambda i: -distance[i])  # stable: ties keep index order
        selected += [front[i] for i in ranked[:k - len(selected)]]
        break
    return selected
