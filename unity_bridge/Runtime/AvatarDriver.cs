using System;
using System.Collections.Generic;
using UnityEngine;
using Vtuber.Bridge.Core;

namespace Vtuber.Bridge
{
    /// <summary>Receives blendshape weights by name (VRM 0.x, VRM 1.0 or ARKit names).</summary>
    public interface IVmcExpressionTarget
    {
        /// <summary>Called on the main thread with the committed weights whenever they change.</summary>
        void ApplyExpressions(Dictionary<string, float> weights);
    }

    /// <summary>
    /// Supplies bones that are already normalized (identity rotation in T-pose), e.g. VRM 1.0's
    /// runtime control rig. Return false when not available; the driver then uses the Animator.
    /// </summary>
    public interface INormalizedBoneSource
    {
        bool TryGetNormalizedBones(Transform[] bones);
    }

    /// <summary>How VMC's normalized rotations are turned into the avatar's local rotations.</summary>
    public enum RigMode
    {
        /// <summary>Capture the rig's rest pose (the avatar must be in T-pose when it first applies);
        /// works for normalized and non-normalized humanoids.</summary>
        CapturedRestPose = 0,
        /// <summary>Write the rotations as they are (UniVRM 0.x imports are normalized).</summary>
        Normalized = 1,
    }

    /// <summary>The avatar side of the receiver and the recording player: which bones, how, and expressions.</summary>
    [Serializable]
    public sealed class AvatarSettings
    {
        [Tooltip("The avatar's humanoid Animator (default: the one on this GameObject or below).")]
        public Animator animator;
        [Tooltip("CapturedRestPose works for any humanoid in T-pose at start; Normalized writes rotations as sent (UniVRM 0.x imports).")]
        public RigMode rigMode = RigMode.CapturedRestPose;
        [Tooltip("Body parts to drive.")]
        public BoneGroup boneGroups = BoneGroup.All;
        [Tooltip("Single bones never written (e.g. the eyes, when the avatar's own look-at drives them).")]
        public List<HumanBodyBones> excludedBones = new List<HumanBodyBones>();
        [Tooltip("Write the bone local positions sent (EVMC4U's 'bone position synchronize'). Off: keep the avatar's proportions.")]
        public bool applyBonePositions;
        [Tooltip("Move this object's Transform by /VMC/Ext/Root/Pos position.")]
        public bool applyRootPosition;
        [Tooltip("Rotate this object's Transform by /VMC/Ext/Root/Pos rotation.")]
        public bool applyRootRotation;
        public bool applyExpressions = true;
        [Tooltip("Component implementing IVmcExpressionTarget (default: found on this GameObject).")]
        public MonoBehaviour expressionTarget;
    }

    /// <summary>
    /// Applies a <see cref="VmcPose"/> to a humanoid avatar on the main thread. Built lazily (after
    /// every Awake/Start, so UniVRM's runtime exists); one instance per component.
    /// </summary>
    public sealed class AvatarDriver
    {
        readonly Component owner;
        readonly AvatarSettings settings;
        Transform[] bones;
        HumanoidRetarget retarget;
        BoneMask mask;
        IVmcExpressionTarget expressions;
        int appliedBlendVersion = int.MinValue;
        bool failed;

        public AvatarDriver(Component owner, AvatarSettings settings)
        {
            this.owner = owner;
            this.settings = settings;
        }

        /// <summary>Forget the captured rig (call after changing the settings or the avatar).</summary>
        public void Reset()
        {
            bones = null;
            retarget = null;
            failed = false;
            appliedBlendVersion = int.MinValue;
        }

        /// <summary>
        /// Captures the rig now. Call it from Start: the Animator has not posed the avatar yet, so
        /// the captured rest pose is the model's own (T-pose for VRM).
        /// </summary>
        public bool Prepare() { return Build(); }

        bool Build()
        {
            if (bones != null) return true;
            if (failed) return false;
            var s = settings;
            mask = new BoneMask(s.boneGroups, ConvertBones(s.excludedBones));
            expressions = s.expressionTarget as IVmcExpressionTarget ?? FindOnOwner<IVmcExpressionTarget>();
            var found = new Transform[HumanBones.Count];
            var present = new bool[HumanBones.Count];
            var source = FindOnOwner<INormalizedBoneSource>();
            if (source != null && source.TryGetNormalizedBones(found))
            {
                for (int i = 0; i < found.Length; i++) present[i] = found[i] != null;
                retarget = new HumanoidRetarget(present);
                bones = found;
                return true;
            }
            if (s.animator == null) s.animator = owner.GetComponentInChildren<Animator>();
            if (s.animator == null || !s.animator.isHuman)
            {
                Debug.LogError("vtuber: " + owner.name + " has no humanoid Animator to drive");
                failed = true;
                return false;
            }
            for (int i = 0; i < HumanBones.Count; i++)
            {
                found[i] = s.animator.GetBoneTransform((HumanBodyBones)i);
                present[i] = found[i] != null;
            }
            if (s.rigMode == RigMode.Normalized)
            {
                retarget = new HumanoidRetarget(present);
            }
            else
            {
                // rest rotations relative to the avatar root, so where the avatar stands does not matter
                var rootInv = Quaternion.Inverse(s.animator.transform.rotation);
                var rest = new Quat[HumanBones.Count];
                var parentRest = new Quat[HumanBones.Count];
                for (int i = 0; i < HumanBones.Count; i++)
                {
                    rest[i] = Quat.Identity;
                    parentRest[i] = Quat.Identity;
                    if (found[i] == null) continue;
                    rest[i] = ToCore(rootInv * found[i].rotation);
                    var parent = found[i].parent;
                    parentRest[i] = ToCore(parent == null ? Quaternion.identity : rootInv * parent.rotation);
                }
                retarget = new HumanoidRetarget(present, rest, parentRest);
            }
            bones = found;
            return true;
        }

        /// <summary>
        /// A component of the owner's GameObject implementing <typeparamref name="T"/>. Looked up
        /// among the MonoBehaviours rather than with GetComponent&lt;T&gt;, which in the Editor can
        /// hand back a non-null placeholder for a missing component.
        /// </summary>
        T FindOnOwner<T>() where T : class
        {
            foreach (var mb in owner.GetComponents<MonoBehaviour>())
            {
                var t = mb as T;
                if (t != null) return t;
            }
            return null;
        }

        static IEnumerable<HumanBone> ConvertBones(List<HumanBodyBones> list)
        {
            if (list == null) yield break;
            foreach (var b in list) yield return (HumanBone)(int)b;
        }

        /// <summary>Writes the pose into the avatar (bones, optional positions and root, expressions).</summary>
        public void Apply(VmcPose pose)
        {
            if (!Build()) return;
            var s = settings;
            for (int i = 0; i < HumanBones.Count; i++)
            {
                var t = bones[i];
                if (t == null || !pose.HasRotation[i] || !mask[i]) continue;
                t.localRotation = ToUnity(retarget.LocalRotation(i, pose.Rotations));
                if (s.applyBonePositions && pose.HasPosition[i])
                    t.localPosition = ToUnity(retarget.LocalPosition(i, pose.Positions[i]));
            }
            if (pose.HasRoot)
            {
                var root = owner.transform;
                if (s.applyRootPosition) root.localPosition = ToUnity(pose.RootPosition);
                if (s.applyRootRotation) root.localRotation = ToUnity(pose.RootRotation);
            }
            if (s.applyExpressions && expressions != null && pose.BlendshapeVersion != appliedBlendVersion)
            {
                appliedBlendVersion = pose.BlendshapeVersion;
                expressions.ApplyExpressions(pose.Blendshapes);
            }
        }

        public static Quaternion ToUnity(Quat q) { return new Quaternion(q.x, q.y, q.z, q.w); }

        public static Vector3 ToUnity(Vec3 v) { return new Vector3(v.x, v.y, v.z); }

        public static Quat ToCore(Quaternion q) { return new Quat(q.x, q.y, q.z, q.w); }
    }
}
