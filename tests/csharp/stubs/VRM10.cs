// UnityEngine/UniVRM STUBS — not Unity.
// Exactly the VRM 1.0 (assembly "VRM10", namespace UniVRM10) API that unity_bridge/Runtime/Vrm10
// touches (compile checks only).
using System;
using System.Collections.Generic;
using UnityEngine;

namespace UniVRM10
{
    public struct ExpressionKey : IEquatable<ExpressionKey>
    {
        public readonly string Name;
        public bool Equals(ExpressionKey other) { throw new NotSupportedException("stub"); }
        public override int GetHashCode() { throw new NotSupportedException("stub"); }
    }

    public sealed class Vrm10RuntimeExpression
    {
        public IReadOnlyList<ExpressionKey> ExpressionKeys { get { throw new NotSupportedException("stub"); } }
        public void SetWeights(IEnumerable<KeyValuePair<ExpressionKey, float>> weights) { throw new NotSupportedException("stub"); }
    }

    public class Vrm10RuntimeControlRig
    {
        public Transform GetBoneTransform(HumanBodyBones bone) { throw new NotSupportedException("stub"); }
    }

    public class Vrm10Runtime
    {
        public Vrm10RuntimeControlRig ControlRig { get { throw new NotSupportedException("stub"); } }
        public Vrm10RuntimeExpression Expression { get { throw new NotSupportedException("stub"); } }
    }

    public class Vrm10Instance : MonoBehaviour
    {
        public Vrm10Runtime Runtime { get { throw new NotSupportedException("stub"); } }
    }
}
