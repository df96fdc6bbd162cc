using System;
using System.Collections.Generic;

namespace Vtuber.Bridge.Core
{
    /// <summary>
    /// Blendshape name tables (VRM 1.0 preset <-> VRM 0.x preset, as in vtuber/rig.py) and the
    /// resolution of incoming names to an avatar's own expression list.
    /// </summary>
    public static class BlendshapeNames
    {
        static readonly string[,] Pairs =
        {
            { "neutral", "Neutral" }, { "aa", "A" }, { "ih", "I" }, { "ou", "U" }, { "ee", "E" }, { "oh", "O" },
            { "blink", "Blink" }, { "blinkLeft", "Blink_L" }, { "blinkRight", "Blink_R" },
            { "happy", "Joy" }, { "angry", "Angry" }, { "sad", "Sorrow" }, { "relaxed", "Fun" },
            { "surprised", "Surprised" }, { "lookUp", "LookUp" }, { "lookDown", "LookDown" },
            { "lookLeft", "LookLeft" }, { "lookRight", "LookRight" },
        };

        public static readonly Dictionary<string, string> Vrm1ToVrm0 = Build(0);
        public static readonly Dictionary<string, string> Vrm0ToVrm1 = Build(1);

        static Dictionary<string, string> Build(int from)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < Pairs.GetLength(0); i++) d[Pairs[i, from]] = Pairs[i, 1 - from];
            return d;
        }
    }

    /// <summary>
    /// Maps incoming blendshape names to indices of an avatar's expression list. Each avatar
    /// expression may be known under several names (a VRM 0.x clip: its BlendShapeName and preset;
    /// a VRM 1.0 expression: its preset or custom name). Lookup order for an incoming name: exact
    /// match, then its VRM 0.x/1.0 counterpart, then a case-insensitive match; -1 when the avatar
    /// has no such expression. Results are cached, so the per-frame cost is one dictionary lookup.
    /// </summary>
    public sealed class ExpressionNameMap
    {
        readonly Dictionary<string, int> exact = new Dictionary<string, int>(StringComparer.Ordinal);
        readonly Dictionary<string, int> folded = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        readonly Dictionary<string, int> cache = new Dictionary<string, int>(StringComparer.Ordinal);

        /// <param name="namesPerExpression">for expression i, the names it answers to.</param>
        public ExpressionNameMap(IList<string[]> namesPerExpression)
        {
            for (int i = 0; i < namesPerExpression.Count; i++)
                foreach (var n in namesPerExpression[i])
                {
                    if (string.IsNullOrEmpty(n)) continue;
                    if (!exact.ContainsKey(n)) exact[n] = i;
                    if (!folded.ContainsKey(n)) folded[n] = i;
                }
        }

        public int Resolve(string incoming)
        {
            int i;
            if (incoming == null) return -1;
            if (cache.TryGetValue(incoming, out i)) return i;
            string other;
            if (!exact.TryGetValue(incoming, out i))
            {
                if (!((BlendshapeNames.Vrm1ToVrm0.TryGetValue(incoming, out other) ||
                       BlendshapeNames.Vrm0ToVrm1.TryGetValue(incoming, out other)) && exact.TryGetValue(other, out i)))
                {
                    if (!folded.TryGetValue(incoming, out i)) i = -1;
                }
            }
            cache[incoming] = i;
            return i;
        }
    }
}
